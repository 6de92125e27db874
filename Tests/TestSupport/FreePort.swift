import Foundation

/// Loopback ports and sockets for tests of what a run does when a server is absent or never answers.
package enum FreePort {
    /// A loopback port nothing listens on.
    package static func closed() throws -> Int {
        let socket = try silentListener()
        close(socket.fd)
        return socket.port
    }

    /// How many connections wait on `listener` to be accepted (it is left non-blocking).
    package static func pendingConnections(_ listener: Int32) -> Int {
        _ = fcntl(listener, F_SETFL, fcntl(listener, F_GETFL) | O_NONBLOCK)
        var count = 0
        while true {
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { return count }
            close(connection)
            count += 1
        }
    }

    /// A loopback socket that completes TCP handshakes (the kernel does) but never speaks.
    package static func silentListener() throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Bool in
                bind(fd, pointer, length) == 0 && listen(fd, 16) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard fd >= 0, bound else { throw TestFailure("cannot open a loopback socket") }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }
}
