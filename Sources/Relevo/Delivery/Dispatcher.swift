import DequeModule
import Logging
import ServiceLifecycle
import Synchronization

/// Delivers the outbox: claims due events with a lease, sends them, records every attempt.
///
/// A lifecycle `Service`. Events of one ordering key (one conversation, one destination) go out
/// strictly one after the other — the store only hands out the head of each key — while different
/// conversations are delivered in parallel, at most `maximumInFlight` at a time. New events wake
/// it at once (``WakeUpSignal``); retries wake it when due, or at its poll. On graceful shutdown it stops claiming
/// and lets the attempts in flight finish.
package final class Dispatcher: Service, Sendable {
    package struct Configuration: Sendable {
        /// Four destinations' worth, so that a few panels that hang leave room for the others.
        package var maximumInFlight = 128
        /// At most this many attempts in flight to one destination (a project's panel, a bot's channel).
        /// Enough that a fast panel is not held back by its answers' round trips: deliveries to one
        /// panel top out near this bound ÷ an attempt's latency, and a backlog behind it scatters the
        /// settlements' writes across the events and attempts B-trees.
        package var maximumInFlightPerDestination = 32
        package var lease: Duration = .seconds(60)
        /// Longest sleep when nothing is due; a safety net, since commits wake the loop.
        package var idlePoll: Duration = .seconds(1)
        package var retryPolicy = RetryPolicy.standard
        /// On graceful shutdown, how long attempts in flight may take before they are abandoned
        /// (their claims are given back: the events are due again at once, for any instance).
        package var shutdownGrace: Duration = .seconds(10)
        /// After the store failed a claim or a settlement (a full disk, a database restarting), how
        /// long no new claim is made: an event whose settlement was lost is claimable again at once,
        /// and without this pause it would be sent again and again while the store is down.
        package var storeBackoff: Duration = .seconds(1)
        package init() {}
    }

    let store: any RelevoStore
    let attempt: DeliveryAttemptRunner
    let configuration: Configuration
    let now: @Sendable () -> Timestamp
    let logger: Logger
    let metrics: DeliveryMetrics?
    /// Attempts in flight, and claimed events waiting for a slot, per destination.
    private let slots: Mutex<Slots>
    /// Set by graceful shutdown: no new claims.
    private let stopping = Mutex(false)
    /// Events whose attempt the end of the shutdown grace cut short; their claims are given back.
    private let abandoned = Mutex<[String]>([])
    /// When the store last failed a claim or a settlement (see ``Configuration/storeBackoff``).
    private let storeFailedAt = Mutex<ContinuousClock.Instant?>(nil)
    /// Claimed events whose attempt the store was away for; their claims are given back as soon as
    /// it answers, before the next claim, so the lease's count of attempts is undone.
    private let putOff = Mutex<[String]>([])

    package init(
        store: any RelevoStore, attempt: DeliveryAttemptRunner, configuration: Configuration,
        now: @escaping @Sendable () -> Timestamp = Timestamp.now, logger: Logger, metrics: DeliveryMetrics? = nil
    ) {
        self.metrics = metrics
        self.store = store
        self.attempt = attempt
        self.configuration = configuration
        self.now = now
        self.logger = logger
        slots = Mutex(Slots(started: DestinationSlots(maximumPerDestination: configuration.maximumInFlightPerDestination)))
    }

    /// Claims run ahead of the attempts: up to one bound's worth per destination (and overall) is
    /// claimed and waits here, so a slot freed by an answer is filled at once instead of after a claim's
    /// round trip to the store (on PostgreSQL that round trip, not the panel, would set the pace).
    private struct Slots {
        var started: DestinationSlots
        /// Deques, so that taking from the front of a line does not copy the events left in it.
        var waiting: [String: Deque<OutboxEvent>] = [:]

        var waitingCount: Int { waiting.values.reduce(0) { $0 + $1.count } }

        /// Waiting events that may start now, taken out of the line and counted in.
        mutating func startable() -> [OutboxEvent] {
            var ready: [OutboxEvent] = []
            for destination in Array(waiting.keys) {
                while waiting[destination]?.isEmpty == false, started.take(destination) {
                    ready.append(waiting[destination]!.removeFirst())
                }
                if waiting[destination]?.isEmpty == true { waiting[destination] = nil }
            }
            return ready
        }

        /// What a claim may add: room for what is in flight or waiting, up to twice the bound.
        var claimSlots: DestinationSlots {
            var counts = started.inFlight
            for (destination, line) in waiting { counts[destination, default: 0] += line.count }
            return DestinationSlots(maximumPerDestination: 2 * started.maximumPerDestination, inFlight: counts)
        }
    }

    package func run() async throws {
        let loop = Task { await self.loop() }
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await loop.value
            } onGracefulShutdown: {
                // Stop claiming now; give the attempts in flight `shutdownGrace` to finish.
                self.stopping.withLock { $0 = true }
                self.store.deliverySignal.signal()
                let grace = self.configuration.shutdownGrace
                Task {
                    try? await Task.sleep(for: grace)
                    loop.cancel()
                }
            }
        } onCancel: {
            loop.cancel()
        }
        // Another instance (PostgreSQL) need not wait for the lease to end to send these again.
        let unfinished = abandoned.withLock { $0 }
        if !unfinished.isEmpty {
            logger.info(
                "deliveries cut short by the shutdown; their events will be sent again",
                metadata: ["events": .stringConvertible(unfinished.count)])
            try? await store.releaseClaims(unfinished)
        }
    }

    private func loop() async {
        await withDiscardingTaskGroup { group in
            while !stopping.withLock({ $0 }) && !Task.isCancelled {
                start(slots.withLock { $0.startable() }, in: &group)
                if let failed = storeFailedAt.withLock({ $0 }), case let pause = configuration.storeBackoff - (.now - failed), pause > .zero {
                    await store.deliverySignal.wait(upTo: pause)
                    continue
                }
                let giveBack = putOff.withLock { ids in
                    defer { ids = [] }
                    return ids
                }
                if !giveBack.isEmpty {
                    do {
                        try await store.releaseClaims(giveBack)
                    } catch StoreError.unavailable {
                        putOff.withLock { $0.append(contentsOf: giveBack) }
                        storeFailedAt.withLock { $0 = .now }
                        continue
                    } catch {
                        // Not given back: their leases end instead, and they are claimed again then.
                        logger.error("giving back put-off claims failed", metadata: ["events": .stringConvertible(giveBack.count)])
                    }
                }
                let (claimable, free) = slots.withLock {
                    ($0.claimSlots, 2 * configuration.maximumInFlight - $0.started.totalInFlight - $0.waitingCount)
                }
                var claimed: [OutboxEvent] = []
                if free > 0 {
                    do {
                        let time = now()
                        claimed = try await store.claimDueEvents(
                            now: time, leaseUntil: time.adding(duration: configuration.lease), limit: free, slots: claimable)
                    } catch {
                        storeFailedAt.withLock { $0 = .now }
                        logger.error("claiming events failed", metadata: ["error_type": "\(type(of: error))"])
                    }
                }
                let overflow = queue(claimed)
                if !overflow.isEmpty { try? await store.releaseClaims(overflow.map(\.id)) }
                start(slots.withLock { $0.startable() }, in: &group)
                if free <= 0 {
                    // Full: what ends the wait is an answer freeing a slot, which signals.
                    await store.deliverySignal.wait(upTo: configuration.idlePoll)
                } else if claimed.isEmpty {
                    await store.deliverySignal.wait(upTo: await sleepBudget())
                }
            }
        }
        // Claimed but never started (shutdown), or put off: given back with the abandoned ones.
        var unstarted = slots.withLock { slots in
            defer { slots.waiting = [:] }
            return slots.waiting.values.flatMap { $0.map(\.id) }
        }
        unstarted += putOff.withLock { $0 }
        abandoned.withLock { $0.append(contentsOf: unstarted) }
    }

    private func start(_ events: [OutboxEvent], in group: inout DiscardingTaskGroup) {
        for event in events {
            group.addTask {
                await self.deliver(event) {
                    // The destination's slot is free once its answer is in, before the attempt is
                    // recorded: the bound is on requests the panel sees at once.
                    self.slots.withLock { $0.started.give(event.destinationKey) }
                    self.store.deliverySignal.signal()
                }
            }
        }
    }

    /// Puts claimed events in their destination's line, up to what the claim may add; the rest are given back
    /// (a store shared by several instances may hand out more than this instance asked for).
    private func queue(_ claimed: [OutboxEvent]) -> [OutboxEvent] {
        slots.withLock { slots in
            var claimable = slots.claimSlots
            var overflow: [OutboxEvent] = []
            for event in claimed {
                if claimable.take(event.destinationKey) {
                    slots.waiting[event.destinationKey, default: []].append(event)
                } else {
                    overflow.append(event)
                }
            }
            return overflow
        }
    }

    /// Until the next retry is due, at most `idlePoll`.
    private func sleepBudget() async -> Duration {
        let time = now()
        guard let due = try? await store.nextDueTime(after: time) else { return configuration.idlePoll }
        let wait = Duration.milliseconds(max(1, due.millisecondsSince1970 - time.millisecondsSince1970))
        return min(wait, configuration.idlePoll)
    }

    /// One attempt for `event`, then its settlement; `answered` runs in between.
    func deliver(_ event: OutboxEvent, answered: () -> Void) async {
        let number = event.attemptCount + 1
        let started = now()
        let clock = ContinuousClock.now
        let result = await attempt.run(event, attemptNumber: number, at: started)
        answered()
        // Abandoned at shutdown: no attempt is recorded, and the claim is given back when the loop has ended.
        if Task.isCancelled {
            abandoned.withLock { $0.append(event.id) }
            return
        }
        // The store was away before anything was sent (a database restart): not an attempt the panel
        // saw, so it neither counts against the retry schedule nor shows in the event log. The loop
        // gives the claim back once the store answers, after `storeBackoff`.
        if result.disposition == .storeUnavailable {
            storeFailedAt.withLock { $0 = .now }
            putOff.withLock { $0.append(event.id) }
            logger.warning("delivery put off: the store did not answer", metadata: ["event_id": .string(event.id)])
            return
        }
        let elapsed = ContinuousClock.now - clock
        let record = DeliveryAttempt(
            eventId: event.id, number: number, startedAt: started,
            durationMilliseconds: elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000,
            statusCode: result.statusCode, errorClass: result.errorClass, responseBody: result.responseBody)
        let outcome: DeliveryOutcome
        let finished = now()
        switch result.disposition {
        case .held: outcome = .held
        case .cancelled: outcome = .cancelled(at: finished)
        case .sent where result.succeeded: outcome = .delivered(at: finished)
        case .sent where result.statusCode == 410: outcome = .failed(at: finished)
        case .sent, .notSent, .storeUnavailable:
            if let delay = configuration.retryPolicy.delay(afterFailedAttempts: number - event.retryBase, retryAfter: result.retryAfter) {
                outcome = .retry(at: finished.adding(duration: delay))
            } else {
                outcome = .failed(at: finished)
            }
        }
        // Successful attempts are the bulk of the traffic (and all in the event log): one line each at
        // debug. Retries, holds and cancellations at info; an event given up for good at warning, since
        // only a redelivery will send it now. The metadata is built only when the line is written.
        let level: Logger.Level =
            switch outcome {
            case .delivered: .debug
            case .failed: .warning
            default: .info
            }
        logger.log(level: level, "delivery attempt", metadata: Self.metadata(event, attempt: number, result: result, outcome: outcome))
        metrics?.attempted(event, duration: elapsed, outcome: outcome)
        do {
            try await store.finishAttempt(record, outcome: outcome)
        } catch {
            // The lease expires and the event is tried again: at-least-once holds.
            storeFailedAt.withLock { $0 = .now }
            logger.error("recording an attempt failed", metadata: ["event_id": .string(event.id)])
        }
    }
}

extension Dispatcher {
    static func metadata(_ event: OutboxEvent, attempt number: Int, result: DeliveryAttemptRunner.Result, outcome: DeliveryOutcome)
        -> Logger.Metadata
    {
        var metadata: Logger.Metadata = [
            "project_id": .string(event.projectId), "event_id": .string(event.id), "attempt": .stringConvertible(number),
            "destination": .string(event.destination.kind), "outcome": .string("\(outcome)"),
        ]
        if let conversationId = event.conversationId { metadata["conversation_id"] = .string(conversationId) }
        if let code = result.statusCode { metadata["status"] = .stringConvertible(code) }
        if let errorClass = result.errorClass { metadata["error_class"] = .string(errorClass) }
        return metadata
    }
}
