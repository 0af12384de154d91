/// A message in the three languages the contract's error envelope carries (§1.4).
package struct LocalizedText: Sendable, Equatable {
    package let en: String
    package let es: String
    package let pt: String

    package init(en: String, es: String, pt: String) {
        self.en = en
        self.es = es
        self.pt = pt
    }

    var json: JSONValue { .members(["en": .string(en), "es": .string(es), "pt": .string(pt)]) }
}
