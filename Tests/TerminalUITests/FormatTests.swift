import Testing
import TerminalUI

@Suite struct FormatTests {
    @Test(arguments: [
        (0, "0"), (999, "999"), (1000, "1.0k"), (1234, "1.2k"), (9949, "9.9k"), (9950, "10k"),
        (12_345, "12k"), (999_499, "999k"), (999_500, "1.0M"), (1_234_567, "1.2M"),
        (45_000_000, "45M"), (3_400_000_000, "3.4G"), (-1234, "-1.2k"),
    ])
    func counts(value: Int, expected: String) {
        #expect(Format.count(value) == expected)
    }

    @Test(arguments: [
        (0, "0ms"), (0.4, "0.4ms"), (850, "850ms"), (999.4, "999ms"), (999.6, "1.0s"), (1500, "1.5s"),
        (12_000, "12s"), (245_000, "4m05s"), (11_520_000, "3h12m"), (187_200_000, "2d4h"),
    ])
    func durations(milliseconds: Double, expected: String) {
        #expect(Format.duration(milliseconds: milliseconds) == expected)
    }

    @Test func durationsInSeconds() {
        #expect(Format.duration(seconds: 0) == "0s")
        #expect(Format.duration(seconds: 59) == "59s")
        #expect(Format.duration(seconds: 60) == "1m00s")
        #expect(Format.duration(seconds: 3 * 3600 + 12 * 60 + 59) == "3h12m")
        #expect(Format.duration(seconds: 2 * 86_400 + 4 * 3600 + 59 * 60) == "2d4h")
    }

    @Test func agesAreShortAndNeverNegative() {
        #expect(Format.age(seconds: -5) == "0s")
        #expect(Format.age(seconds: 5) == "5s")
        #expect(Format.age(seconds: 245) == "4m")
        #expect(Format.age(seconds: 3 * 3600 + 120) == "3h02m")
        #expect(Format.age(from: 1_000, to: 1_090.9) == "1m")
    }

    @Test func percentNeverClaimsDoneEarly() {
        #expect(Format.percent(0) == "0%")
        #expect(Format.percent(0.424) == "42%")
        #expect(Format.percent(0.9999) == "99%")
        #expect(Format.percent(1) == "100%")
        #expect(Format.percent(3) == "100%")
        #expect(Format.percent(.nan) == "-")
    }

    @Test func ratesAndClock() {
        #expect(Format.rate(perSecond: 0) == "0/s")
        #expect(Format.rate(perSecond: 3.5) == "3.5/s")
        #expect(Format.rate(perSecond: 42) == "42/s")
        #expect(Format.rate(perSecond: 1234) == "1.2k/s")
        #expect(Format.clock(secondsSinceMidnight: 3 * 3600 + 7 * 60 + 30) == "03:07")
    }

    @Test func nothingTrapsOnNonFiniteOrHugeValues() {
        #expect(Format.duration(milliseconds: .nan) == "-")
        #expect(Format.duration(milliseconds: 1e300).hasSuffix("h"))
        #expect(Format.age(from: .nan, to: 5) == "0s")
        #expect(Format.rate(perSecond: 1e300) == "9E/s")
        #expect(Format.count(Int.max) == "9E")
        #expect(Format.count(Int.min) == "-9E")
        #expect(Format.clampedInt(.infinity) == Int.max)
    }
}
