import Foundation
import Glibc
import Relevo

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The real `relevo` binary, run as an operator would run it.
enum RelevoBinary {
    /// The executable built next to the test bundle (the test target depends on it).
    static var url: URL {
        var directory = Bundle.main.bundleURL
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent("relevo")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory.deleteLastPathComponent()
        }
        // <repo>/Tests/RelevoTests/Support/RelevoProcess.swift → <repo>/.build/debug/relevo
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(".build/debug/relevo")
    }

    /// Runs a command to completion on a thread of its own (never blocking the test's cooperative
    /// threads, which also serve the in-process receivers); returns exit status, stdout and stderr.
    static func run(_ arguments: [String], stdin: String? = nil, environment: [String: String] = [:]) async throws
        -> (status: Int32, stdout: String, stderr: String)
    {
        try await offThread { try runBlocking(arguments, stdin: stdin, environment: environment) }
    }

    static func runBlocking(_ arguments: [String], stdin: String? = nil, environment: [String: String] = [:]) throws
        -> (status: Int32, stdout: String, stderr: String)
    {
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let output = Pipe(), errors = Pipe(), input = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }
}

/// A `relevo serve` process on an ephemeral port, with its stdout captured in a file.
final class ServerProcess: @unchecked Sendable {
    // Mutated only by the owning test, sequentially.
    let process = Process()
    let stdoutFile: URL
    let stderrFile: URL
    private(set) var port = 0

    init(arguments: [String], directory: URL, environment: [String: String] = [:]) throws {
        let name = UUID().uuidString
        stdoutFile = directory.appendingPathComponent("stdout-\(name).log")
        stderrFile = directory.appendingPathComponent("stderr-\(name).log")
        _ = FileManager.default.createFile(atPath: stdoutFile.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrFile.path, contents: nil)
        process.executableURL = RelevoBinary.url
        process.arguments = ["serve", "--port", "0"] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = try FileHandle(forWritingTo: stdoutFile)
        process.standardError = try FileHandle(forWritingTo: stderrFile)
        try process.run()
    }

    var output: String { (try? String(contentsOf: stdoutFile, encoding: .utf8)) ?? "" }
    var errorOutput: String { (try? String(contentsOf: stderrFile, encoding: .utf8)) ?? "" }

    /// Waits up to `limit` for the process to end by itself; its exit status, or nil if it still runs.
    func exitStatus(within limit: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + limit
        while process.isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        return process.isRunning ? nil : process.terminationStatus
    }

    /// Waits for the "listening on" line and reads the port from it.
    func waitUntilListening() async throws {
        for _ in 0..<300 {
            if let line = output.split(separator: "\n").first(where: { $0.contains("listening on http://") }),
                let port = Int(line.split(separator: ":").last ?? "")
            {
                self.port = port
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw CocoaError(.fileReadUnknown)
    }

    /// The value printed after `label:` on the first-start banner.
    func banner(_ label: String) -> String? {
        output.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix(label + ":") }
            .map { String($0.split(separator: ":", maxSplits: 1)[1]).trimmingCharacters(in: .whitespaces) }
    }

    func request(
        _ method: String, _ path: String, key: String? = nil, body: String? = nil,
        headers: [String: String] = [:]
    ) async throws -> (Int, String) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        if let key { request.setValue(key, forHTTPHeaderField: "x-api-key") }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if let body {
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    /// `bytes` written as they are to a new connection, and what came back (see ``rawHTTPExchange(port:bytes:)``).
    func rawExchange(_ bytes: [UInt8]) async throws -> String {
        try await rawHTTPExchange(port: port, bytes: bytes).answer
    }

    /// The `data` of a success envelope, failing the test on any other answer.
    func data(_ method: String, _ path: String, key: String, body: String? = nil) async throws -> JSONValue {
        let (status, text) = try await request(method, path, key: key, body: body)
        guard status == 200, let data = try JSONParser.parse(text)["data"] else {
            throw ServerError(description: "\(method) \(path) answered \(status): \(text.prefix(300))")
        }
        return data
    }

    /// SIGKILL: a crash, no graceful anything. The exit is immediate.
    func kill() {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// SIGTERM without waiting (for teardown): the server stops within its shutdown grace; a watchdog
    /// thread kills it if it has not after 30 s, so no test leaves a server behind.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let process = self.process
        Thread.detachNewThread {
            let deadline = Date().addingTimeInterval(30)
            while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        }
    }

    /// SIGTERM and wait for the exit, the graceful stop an operator's supervisor performs. Awaits
    /// instead of blocking: the server's stop may wait on receivers running in this test process.
    func stopAndWait() async {
        stop()
        while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
    }
}

struct ServerError: Error, CustomStringConvertible {
    let description: String
}

/// Runs blocking work on a dedicated thread and awaits it.
func offThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
    }
}

/// Writes `bytes` as they are to a new connection to 127.0.0.1:`port` and reads until the server
/// closes it (`closed`) or `silence` seconds pass without a byte: for requests no HTTP client library
/// would send, such as a chunked body or one cut short. Once the answer so far satisfies `complete`,
/// the wait for more shrinks to one second, so that a busy server gets the whole `silence` to answer
/// while a connection it keeps open does not hold the caller for as long.
func rawHTTPExchange(
    port: Int, bytes: [UInt8], silence: Int = 5, complete: @escaping @Sendable (String) -> Bool = { _ in false }
) async throws -> (answer: String, closed: Bool) {
    try await offThread {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw ServerError(description: "socket: errno \(errno)") }
        defer { close(socket) }
        var timeout = timeval(tv_sec: silence, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw ServerError(description: "connect: errno \(errno)") }
        var written = 0
        while written < bytes.count {
            // The server may answer and close before reading everything: stop writing then.
            let n = bytes[written...].withUnsafeBytes { send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { break }
            written += n
        }
        var answer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if n == 0 { return (String(decoding: answer, as: UTF8.self), true) }
            if n < 0 { return (String(decoding: answer, as: UTF8.self), errno == ECONNRESET) }
            answer += chunk[..<n]
            if timeout.tv_sec > 1, complete(String(decoding: answer, as: UTF8.self)) {
                timeout.tv_sec = 1
                setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            }
        }
    }
}

/// A loopback port nothing listens on right now (for a server that must be told its port up front).
func freePort() throws -> Int {
    let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(socket) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
            bind(socket, address, length) == 0 && getsockname(socket, address, &length) == 0
        }
    }
    guard bound else { throw ServerError(description: "no free loopback port") }
    return Int(UInt16(bigEndian: address.sin_port))
}
