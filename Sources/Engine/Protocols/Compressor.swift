/// A stage that makes backups smaller (the `compressor` role).
public protocol Compressor: Stage {}
