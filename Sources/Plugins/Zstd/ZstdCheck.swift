import CZstd
import Engine

/// `code`, or a `.compression` error saying `what` failed and libzstd's reason when `code` is an error.
func zstdCheck(_ code: Int, _ what: String) throws -> Int {
    if ZSTD_isError(code) != 0 {
        throw BackupError(.compression, "\(what): \(String(cString: ZSTD_getErrorName(code)))")
    }
    return code
}
