/// Settles a call's admission (budgets, token windows) from the call's one settlement, with what
/// the usage record says it really cost: a failed call releases its reservation.
package struct TrafficSettlementHook: SettlementHook {
    package let traffic: TrafficControl

    package func settled(_ record: UsageRecord, call: Call) {
        traffic.settle(call.admission, cost: record.cost, tokens: record.totalTokens)
    }

    package init(traffic: TrafficControl) {
        self.traffic = traffic
    }
}
