import Prometheus

/// The delivery figures an operator graphs and alerts on, in Prometheus text format at `GET /metrics`.
///
/// A registry per application (not the global metrics system), so several apps in one test process
/// never share counters.
package final class DeliveryMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let queueDepth: Gauge
    private let oldestPendingAge: Gauge
    private let storeUp: Gauge
    private let webChatStreams: (own: Gauge, shared: Gauge)
    /// Every series, made once: the registry's lookup by name and labels (a lock, label checks, a
    /// dictionary) is too costly to make per event.
    private let series: [String: Series]
    static let destinations = ["panel", "channel"]
    static let buckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(15),
    ]

    package init() {
        queueDepth = registry.makeGauge(
            name: "relevo_queue_depth", help: "Events not yet delivered, failed or cancelled, held ones (no channel URL yet) included")
        oldestPendingAge = registry.makeGauge(
            name: "relevo_oldest_pending_age_seconds", help: "Age of the oldest event waiting to be sent (held ones excluded)")
        storeUp = registry.makeGauge(
            name: "relevo_store_up", help: "1 if the store answered this scrape; 0 if not (the queue gauges then keep their last values)")
        let streamsHelp = "Web chat visitors' live transcripts open on this instance, by whether their connection serves them alone"
        webChatStreams = (
            registry.makeGauge(name: "relevo_webchat_streams", labels: [("connection", "own")], help: streamsHelp),
            registry.makeGauge(name: "relevo_webchat_streams", labels: [("connection", "shared")], help: streamsHelp)
        )
        var series: [String: Series] = [:]
        for destination in Self.destinations {  // every series exists from the start, at zero
            series[destination] = Series(
                queued: Self.counter("queued", destination, registry), delivered: Self.counter("delivered", destination, registry),
                failed: Self.counter("failed", destination, registry), attemptDuration: Self.histogram(destination, registry))
        }
        self.series = series
    }

    private struct Series {
        let queued: Counter
        let delivered: Counter
        let failed: Counter
        let attemptDuration: DurationHistogram
    }

    /// A redelivery is not a new event (not counted as queued), but its settlement counts again: over
    /// time delivered + failed can exceed queued.
    private static let help = [
        "queued": "Events written to the outbox, by destination kind (redeliveries are not new events)",
        "delivered": "Attempts that delivered their event, by destination kind (a redelivered event counts again)",
        "failed": "Events given up after their last attempt, by destination kind (a redelivered event counts again)",
    ]

    private static func counter(_ name: String, _ destination: String, _ registry: PrometheusCollectorRegistry) -> Counter {
        registry.makeCounter(name: "relevo_events_\(name)_total", labels: [("destination", destination)], help: help[name] ?? "")
    }

    private static func histogram(_ destination: String, _ registry: PrometheusCollectorRegistry) -> DurationHistogram {
        registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(
                metricName: "relevo_delivery_attempt_duration", unitName: "seconds",
                helpText: "Duration of delivery attempts"),
            labels: [("destination", destination)], buckets: Self.buckets)
    }

    /// Events written to the outbox.
    func queued(_ events: [OutboxEvent]) {
        for event in events { series[event.destination.kind]?.queued.increment() }
    }

    /// One attempt and how it settled its event.
    func attempted(_ event: OutboxEvent, duration: Duration, outcome: DeliveryOutcome) {
        guard let series = series[event.destination.kind] else { return }
        series.attemptDuration.record(duration)
        switch outcome {
        case .delivered: series.delivered.increment()
        case .failed: series.failed.increment()
        default: break
        }
    }

    /// The text exposition, with the queue gauges read from the store at scrape time. A store that
    /// does not answer does not take the in-memory counters with it: they are what shows the outage.
    func render(store: any RelevoStore, now: Timestamp, webChatStreams streams: (own: Int, shared: Int)) async -> [UInt8] {
        webChatStreams.own.set(to: Double(streams.own))
        webChatStreams.shared.set(to: Double(streams.shared))
        if let statistics = try? await store.queueStatistics() {
            queueDepth.set(to: Double(statistics.depth))
            let age = statistics.oldestPendingCreatedAt.map { Double(now.millisecondsSince1970 - $0.millisecondsSince1970) / 1000 } ?? 0
            oldestPendingAge.set(to: max(0, age))
            storeUp.set(to: 1)
        } else {
            storeUp.set(to: 0)
        }
        return registry.emitToBuffer()
    }
}
