import Testing
@testable import Relevo
@Test func version() { #expect(!relevoVersion.isEmpty) }
