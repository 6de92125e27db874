/// psql stopped reading its script: it failed, and its exit status and stderr say why.
struct ScriptReaderStopped: Error {}
