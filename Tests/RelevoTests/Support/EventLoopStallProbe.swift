import NIOCore
import NIOPosix
import Synchronization

/// Measures how late NIO's shared event loops run a task due every 10 ms, for a test whose failure
/// could be either the code under test or a loop blocked by something else in the test process:
/// its message then says which.
final class EventLoopStallProbe: Sendable {
    /// The longest gap so far, and each loop's last run.
    private final class Record: Sendable {
        let gaps = Mutex((longest: TimeAmount.zero, last: [ObjectIdentifier: NIODeadline]()))

        func ran(_ loop: any EventLoop) {
            let now = NIODeadline.now()
            gaps.withLock { gaps in
                if let last = gaps.last[ObjectIdentifier(loop)] { gaps.longest = max(gaps.longest, now - last) }
                gaps.last[ObjectIdentifier(loop)] = now
            }
        }
    }

    private let record = Record()
    private let tasks: [RepeatedTask]

    init(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        let record = record
        tasks = group.makeIterator().map { loop in
            loop.scheduleRepeatedTask(initialDelay: .zero, delay: .milliseconds(10)) { _ in record.ran(loop) }
        }
    }

    /// Stops measuring; the longest time between two runs of one loop's task, in milliseconds.
    func stop() -> Int64 {
        for task in tasks { task.cancel() }
        return record.gaps.withLock { $0.longest.nanoseconds / 1_000_000 }
    }
}
