/// A stored row that does not hold what Relevo reads from it: a column missing from the query, a
/// value of another type, or a value outside its domain. Stores never default such a value: serving
/// an empty id or a zero timestamp would hide the fault and spread it.
package struct StoreRowError: Error, CustomStringConvertible {
    let column: String
    let problem: String

    package var description: String { "stored column \(column): \(problem)" }
}
