/// One recipient stanza: `-> type args…` and its body.
struct AgeStanza: Equatable {
    var type: String
    var arguments: [String]
    var body: [UInt8]
}
