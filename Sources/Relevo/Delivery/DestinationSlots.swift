/// How many more attempts each destination may start: the dispatcher's bound per destination
/// (a project's panel, a bot's channel), so that one slow panel cannot take every slot.
///
/// The dispatcher keeps the live counts; a claim gets a copy, so the store hands out no more
/// events of a destination than it may start — nothing is claimed only to be given back.
package struct DestinationSlots: Sendable, Equatable {
    /// Most attempts in flight to one destination.
    package let maximumPerDestination: Int
    /// Attempts in flight, by ``OutboxEvent/destinationKey``; absent means none.
    package private(set) var inFlight: [String: Int]

    package init(maximumPerDestination: Int, inFlight: [String: Int] = [:]) {
        self.maximumPerDestination = maximumPerDestination
        self.inFlight = inFlight
    }

    /// Destinations that may start nothing more now.
    package var saturated: Set<String> { Set(inFlight.filter { $0.value >= maximumPerDestination }.keys) }

    package var totalInFlight: Int { inFlight.values.reduce(0) { $0 &+ $1 } }

    /// Counts one more attempt to `destination` if it has room; false when it has none.
    package mutating func take(_ destination: String) -> Bool {
        let current = inFlight[destination, default: 0]
        guard current < maximumPerDestination else { return false }
        inFlight[destination] = current + 1
        return true
    }

    /// An attempt to `destination` ended.
    package mutating func give(_ destination: String) {
        let remaining = inFlight[destination, default: 1] - 1
        inFlight[destination] = remaining > 0 ? remaining : nil
    }
}
