/// Text compared and measured as JavaScript does, because the clients and panels on the other side are
/// JavaScript and the contract's limits and keys mean what they mean there.
///
/// Swift's `String` works on grapheme clusters under canonical equivalence: `"\u{e9}" == "e\u{301}"`,
/// both hash alike, and `"e"` followed by twenty thousand combining accents has a `count` of 1.
/// JavaScript keeps such texts apart (`JSON.parse` keeps both keys, `===` says false) and counts UTF-16
/// code units (`.length`). Anything that compares or limits client-supplied text uses these instead.
extension StringProtocol {
    /// The length JavaScript's `.length` gives: UTF-16 code units (an emoji is 2, a combining accent 1).
    var javaScriptLength: Int { utf16.count }

    /// Whether both are the very same code points, as JavaScript's `===` decides; unlike `==`, text that
    /// differs only in Unicode normalization (precomposed `é` against `e` + U+0301) is different.
    func hasSameCodePoints(as other: some StringProtocol) -> Bool {
        utf8.count == other.utf8.count && utf8.elementsEqual(other.utf8)
    }
}
