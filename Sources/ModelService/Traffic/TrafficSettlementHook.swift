/// Settles a call's admission (budgets, token windows) from the call's one settlement, with what
/// the usage record says it really cost: a failed call releases its reservation.
struct TrafficSettlementHook: SettlementHook {
    let traffic: TrafficControl

    func settled(_ record: UsageRecord, call: Call) {
        traffic.settle(call.admission, cost: record.cost, tokens: record.totalTokens)
    }
}
