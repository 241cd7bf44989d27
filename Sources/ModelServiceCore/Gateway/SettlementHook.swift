/// The one place where what a call cost is settled beyond its usage record: budgets, metrics,
/// circuit breakers and key health plug in here (traffic control and metrics implement it).
///
/// Called exactly once per call, from the call's own end, after the usage record is queued.
/// Must return at once: it runs on the response path.
public protocol SettlementHook: Sendable {
    func settled(_ record: UsageRecord, call: Call)
}
