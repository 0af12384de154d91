import Testing

@testable import Relevo

/// The dispatcher's wake-up: what it relies on is that no signal is lost, that a wait ends at its
/// own timeout whatever timer an earlier wait left armed, and that cancellation ends a wait at once.
@Suite("Dispatcher wake-up signal")
struct WakeUpSignalTests {
    @Test func aSignalWithNoWaiterEndsTheNextWaitAtOnce() async {
        let signal = WakeUpSignal()
        signal.signal()
        let clock = ContinuousClock()
        let start = clock.now
        #expect(await signal.wait(upTo: .seconds(30)))
        #expect(clock.now - start < .seconds(5))
        // Remembered once, not twice.
        #expect(await signal.wait(upTo: .milliseconds(50)) == false)
    }

    @Test func aSignalWakesTheWaiter() async {
        let signal = WakeUpSignal()
        async let woken = signal.wait(upTo: .seconds(30))
        try? await Task.sleep(for: .milliseconds(50))
        signal.signal()
        #expect(await woken)
    }

    @Test func aShortWaitAfterALongOneEndsOnTime() async {
        let signal = WakeUpSignal()
        // The first wait arms a timer for 30 s and is signalled; that timer stays armed.
        async let first = signal.wait(upTo: .seconds(30))
        try? await Task.sleep(for: .milliseconds(20))
        signal.signal()
        #expect(await first)
        let clock = ContinuousClock()
        let start = clock.now
        #expect(await signal.wait(upTo: .milliseconds(100)) == false)
        #expect(clock.now - start < .seconds(10))
    }

    @Test func aLongWaitAfterAShortOneLastsItsWholeTimeout() async throws {
        let signal = WakeUpSignal()
        // The first wait arms a timer for 100 ms and is signalled at once; the second wait must
        // outlive that timer (which re-arms for it) and still answer a signal. On a loaded machine
        // the 10 ms sleep can outlast the first wait's 100 ms: then the set-up is tried again.
        var signalled = false
        for _ in 0..<20 where !signalled {
            async let first = signal.wait(upTo: .milliseconds(100))
            try? await Task.sleep(for: .milliseconds(10))
            signal.signal()
            signalled = await first
            if !signalled { _ = await signal.wait(upTo: .milliseconds(1)) }  // the signal it missed, remembered
        }
        try #require(signalled)
        async let second = signal.wait(upTo: .seconds(30))
        try? await Task.sleep(for: .milliseconds(400))
        signal.signal()
        #expect(await second)  // true: ended by the signal, not by the first wait's timer
    }

    @Test func cancellationEndsTheWait() async {
        let signal = WakeUpSignal()
        let waiting = Task { await signal.wait(upTo: .seconds(30)) }
        try? await Task.sleep(for: .milliseconds(50))
        waiting.cancel()
        #expect(await waiting.value == false)
        // The cancellation left no signal behind.
        #expect(await signal.wait(upTo: .milliseconds(50)) == false)
    }
}
