import Prometheus

/// The delivery figures an operator graphs and alerts on, in Prometheus text format at `GET /metrics`.
///
/// A registry per application (not the global metrics system), so several apps in one test process
/// never share counters.
public final class DeliveryMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let queueDepth: Gauge
    private let oldestPendingAge: Gauge
    static let destinations = ["panel", "channel"]
    static let buckets: [Duration] = [.milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
                                      .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(15)]

    public init() {
        queueDepth = registry.makeGauge(name: "relevo_queue_depth", help: "Events not yet delivered, failed or cancelled")
        oldestPendingAge = registry.makeGauge(name: "relevo_oldest_pending_age_seconds", help: "Age of the oldest event still waiting")
        for destination in Self.destinations {  // every series exists from the start, at zero
            for name in ["queued", "delivered", "failed"] { _ = counter(name, destination) }
            _ = histogram(destination)
        }
    }

    private func counter(_ name: String, _ destination: String) -> Counter {
        registry.makeCounter(name: "relevo_events_\(name)_total", labels: [("destination", destination)],
                             help: "Events \(name), by destination kind")
    }

    private func histogram(_ destination: String) -> DurationHistogram {
        registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(metricName: "relevo_delivery_attempt_duration", unitName: "seconds",
                                             helpText: "Duration of delivery attempts"),
            labels: [("destination", destination)], buckets: Self.buckets)
    }

    /// Events written to the outbox.
    func queued(_ events: [OutboxEvent]) {
        for event in events { counter("queued", event.destination.kind).increment() }
    }

    /// One attempt and how it settled its event.
    func attempted(_ event: OutboxEvent, duration: Duration, outcome: DeliveryOutcome) {
        histogram(event.destination.kind).record(duration)
        switch outcome {
        case .delivered: counter("delivered", event.destination.kind).increment()
        case .failed: counter("failed", event.destination.kind).increment()
        default: break
        }
    }

    /// The text exposition, with the queue gauges read from the store at scrape time.
    func render(store: any RelevoStore, now: Timestamp) async throws -> [UInt8] {
        let statistics = try await store.queueStatistics()
        queueDepth.set(to: Double(statistics.depth))
        let age = statistics.oldestPendingCreatedAt.map { Double(now.millisecondsSince1970 - $0.millisecondsSince1970) / 1000 } ?? 0
        oldestPendingAge.set(to: max(0, age))
        return registry.emitToBuffer()
    }
}
