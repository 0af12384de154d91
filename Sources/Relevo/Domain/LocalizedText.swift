/// A message in the three languages the contract's error envelope carries (§1.4).
public struct LocalizedText: Sendable, Equatable {
    public let en: String
    public let es: String
    public let pt: String

    public init(en: String, es: String, pt: String) {
        self.en = en
        self.es = es
        self.pt = pt
    }

    var json: JSONValue { .members(["en": .string(en), "es": .string(es), "pt": .string(pt)]) }
}
