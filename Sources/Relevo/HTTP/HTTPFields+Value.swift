import HTTPTypes

extension HTTPFields {
    /// What `self[name]` answers (the values of repeated fields joined by ", "), without building a
    /// joined string for the usual single field: the subscript joins through a lazy map, whose
    /// generic metadata and new string would cost every request.
    func value(of name: HTTPField.Name) -> String? {
        var found: String?
        var repeated = false
        for field in self where field.name == name {
            if found == nil { found = field.value } else { repeated = true; break }
        }
        return repeated ? self[name] : found
    }
}
