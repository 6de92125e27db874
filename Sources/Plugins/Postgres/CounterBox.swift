/// Hands a counter to the one thread or task that scans with it.
final class CounterBox: @unchecked Sendable {
    // @unchecked: one reader at a time. The scanner alone touches the counter until it is done, and the
    // owner reads the counts only after awaiting that (the await orders the two).
    let counter: CopyRowCounter?
    init(_ counter: CopyRowCounter?) { self.counter = counter }
}
