import Hummingbird

/// The paging parameters every list reads from its query string: `limit` and `cursor`.
enum PageQuery {
    /// `limit` (1–200, 50 when absent) and `cursor` (opened by the service), a bad `limit` added to `problems`.
    static func read(_ query: Parameters, problems: inout ValidationErrors) -> PageRequest {
        let size = query.get("limit").map { Int($0) ?? -1 } ?? 50
        if !(1...PageRequest.maximumSize).contains(size) {
            problems.add(
                "limit",
                LocalizedText(
                    en: "limit must be an integer from 1 to 200", es: "limit debe ser un entero de 1 a 200",
                    pt: "limit deve ser um inteiro de 1 a 200"))
        }
        return PageRequest(size: size, cursor: query.get("cursor"))
    }
}
