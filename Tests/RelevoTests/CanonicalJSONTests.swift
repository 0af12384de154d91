import Foundation
import Testing

@testable import Relevo

@Suite("JSON parser and JavaScript-canonical writer")
struct CanonicalJSONTests {
    @Test(arguments: [
        ("1.0", "1"), ("10.50", "10.5"), ("1e21", "1e+21"), ("1e20", "100000000000000000000"), ("-0", "0"),
        ("0.000001", "0.000001"), ("1e-7", "1e-7"), ("123456789012345680000", "123456789012345680000"),
        ("1.5e300", "1.5e+300"), ("-2.5E-10", "-2.5e-10"), ("0.1", "0.1"), ("9007199254740993", "9007199254740992"),
        ("5e-324", "5e-324"), ("1.7976931348623157e308", "1.7976931348623157e+308"), ("-12.0e2", "-1200"),
    ])
    func numbersAreWrittenAsJavaScriptWritesThem(input: String, expected: String) throws {
        #expect(CanonicalJSONWriter.string(try JSONParser.parse(input)) == expected)
    }

    @Test func stringsEscapeOnlyWhatJSONStringifyEscapes() throws {
        let value = try JSONParser.parse(#"{"s":"a/b \u00e9 😀 \"q\" \\ \u0001 \b\f\n\r\t \u001f \u007f \u2028"}"#)
        #expect(CanonicalJSONWriter.string(value) == "{\"s\":\"a/b é 😀 \\\"q\\\" \\\\ \\u0001 \\b\\f\\n\\r\\t \\u001f \u{7f} \u{2028}\"}")
    }

    @Test func integerLikeKeysComeFirstAscending() throws {
        let value = try JSONParser.parse(#"{"b":1,"10":2,"a":3,"2":4,"01":5,"4294967295":6,"-1":7}"#)
        #expect(CanonicalJSONWriter.string(value) == #"{"2":4,"10":2,"b":1,"a":3,"01":5,"4294967295":6,"-1":7}"#)
    }

    @Test(arguments: [
        "", " ", "{", "[1,]", "{\"a\":1,}", "01", "1.", ".5", "+1", "-", "tru", "nul", "\"\\x\"",
        "\"\\u12\"", "{\"a\" 1}", "[1 2]", "\"\u{01}\"", "{\"a\":1,\"a\":1}", "NaN", "Infinity",
    ])
    func malformedDocumentsAreRefused(text: String) {
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(text) }
    }

    @Test func nestingIsLimitedTo32Levels() throws {
        let ok = String(repeating: "[", count: 32) + String(repeating: "]", count: 32)
        let tooDeep = String(repeating: "[", count: 33) + String(repeating: "]", count: 33)
        #expect(throws: Never.self) { try JSONParser.parse(ok) }
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(tooDeep) }
    }

    /// Raw bytes of a string are taken as they are when they are UTF-8, and refused, never repaired,
    /// when they are not: an overlong form, an encoded surrogate, a stray continuation byte, a cut
    /// sequence, a byte that never starts one. The failure points at the run holding the bad byte.
    @Test(arguments: [[0xC0, 0xAF], [0xED, 0xA0, 0x80], [0x80], [0xE2, 0x82], [0xFF], [0xF4, 0x90, 0x80, 0x80]] as [[UInt8]])
    func invalidUTF8InAStringIsRefused(bad: [UInt8]) {
        let document = Array(#"{"a":"ok","b":"x\n"#.utf8) + bad + Array(#"y"}"#.utf8)
        #expect(throws: JSONParser.Failure(reason: "invalid UTF-8 in string", offset: 18)) { try JSONParser.parse(document) }
    }

    @Test func rawRunsAndEscapesKeepEveryScalarInOrder() throws {
        let document = Array(#""e\u0301"#.utf8) + [0xCC, 0x81] + Array(#"\n😀 é\"""#.utf8)
        #expect(try JSONParser.parse(document) == .string("e\u{301}\u{301}\n😀 é\""))
        #expect(try JSONParser.parse(Array(#""""#.utf8)) == .string(""))
    }

    @Test func surrogatePairsDecode() throws {
        #expect(try JSONParser.parse(#""\ud83d\ude00""#) == .string("😀"))
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(#""\ude00""#) }
    }

    /// `JSON.parse` keeps member names that differ only in Unicode normalization apart (precomposed
    /// `é` and `e` + U+0301; `K` and the Kelvin sign U+212A); Swift's `String ==` would merge them.
    @Test func namesThatAreOnlyCanonicallyEquivalentAreDistinctMembers() throws {
        let value = try JSONParser.parse(#"{"\u00e9":1,"e\u0301":2,"\u212a":3,"K":4}"#)
        guard case .object(let members) = value else { Issue.record("not an object"); return }
        #expect(members.map { Array($0.key.unicodeScalars.map(\.value)) } == [[0xE9], [0x65, 0x301], [0x212A], [0x4B]])
        #expect(Array(CanonicalJSONWriter.bytes(value)) == Array("{\"\u{e9}\":1,\"e\u{301}\":2,\"\u{212A}\":3,\"K\":4}".utf8))
        #expect(value["K"] == .number(4))
        #expect(value["\u{e9}"] == .number(1))
        #expect(value["e\u{301}"] == .number(2))
        // The same name written once escaped and once raw is still a duplicate.
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse("{\"\\u00e9\":1,\"\u{e9}\":2}") }
    }

    /// Duplicates are found whether the object is small (names compared one by one) or large (past
    /// `linearMembers` a set takes over): a repeat of an early name late, a repeat within the first
    /// few, and in both, names that are only canonically equivalent stay distinct members.
    @Test func duplicatesAreFoundInSmallAndLargeObjects() throws {
        func object(_ names: [String]) -> String { "{" + names.enumerated().map { "\"\($1)\":\($0)" }.joined(separator: ",") + "}" }
        let many = (0..<40).map { "k\($0)" }
        let equivalent = ["\u{e9}", "e\u{301}", "\u{212A}", "K"]
        let parsed = try JSONParser.parse(object(many + equivalent))
        guard case .object(let members) = parsed else { Issue.record("not an object"); return }
        #expect(members.count == 44)
        #expect(try JSONParser.parse(object(equivalent)) != .null)
        for names in [["a", "b", "a"], many + ["k0"], many + ["k39"], Array(many.prefix(16)) + ["k3"], many + equivalent + ["e\u{301}"]] {
            #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(object(names)) }
        }
    }

    @Test func stringsThatAreOnlyCanonicallyEquivalentAreNotEqual() throws {
        #expect(JSONValue.string("\u{e9}") != .string("e\u{301}"))
        #expect(try JSONParser.parse(#"{"\u00e9":1}"#) != JSONParser.parse(#"{"e\u0301":1}"#))
    }

    /// Node.js is the reference: its `JSON.stringify(JSON.parse(x))` must equal our bytes.
    @Test func outputMatchesNodeJSONStringify() async throws {
        let node = try #require(Self.findNode(), "node is required on this machine")
        let documents = [
            #"{"z":1.0,"a":[10.50,1e21,-0,1e-7,0.1,123e-20],"m":{"2":"x","1":"y","k":"/\u00e9\u0000\u001f😀"}}"#,
            #"{"metadata":{"orderId":"A/1","10":true,"9":null,"nested":{"b":[],"a":{}}},"text":"line\nbreak\ttab \"q\""}"#,
            #"{"metadata":{"\u00e9":1,"e\u0301":2}}"#,
            #"{"\u212a":"K","K":"\u212a","7":{"e\u0301\u0301":[],"\u00e9\u0301":"e\u0301\u0301"},"\u1e69":1,"s\u0323\u0307":2,"s\u0307\u0323":3}"#,
        ]
        for document in documents {
            let ours = CanonicalJSONWriter.string(try JSONParser.parse(document))
            let nodeBytes = try await offThread {  // a child waited for on a cooperative thread stalls every test's tasks
                let process = Process()
                process.executableURL = URL(fileURLWithPath: node)
                process.arguments = [
                    "-e", "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>process.stdout.write(JSON.stringify(JSON.parse(s))))",
                ]
                let input = Pipe(), output = Pipe()
                process.standardInput = input
                process.standardOutput = output
                try process.run()
                input.fileHandleForWriting.write(Data(document.utf8))
                try input.fileHandleForWriting.close()
                let bytes = output.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                return bytes
            }
            #expect(Array(nodeBytes) == Array(ours.utf8))
        }
    }

    static func findNode() -> String? {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let candidate = "\(directory)/node"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
