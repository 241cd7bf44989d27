/// Metrics settle with the call: one `record(settlement:)` per call, from its usage record.
extension GatewayMetrics: SettlementHook {
    public func settled(_ record: UsageRecord, call: Call) {
        self.record(
            settlement: .init(
                model: record.model, provider: record.provider, door: call.door.metricsLabel, status: record.status, errorKind: record.errorCode,
                inputTokens: record.promptTokens, outputTokens: record.completionTokens, cost: record.cost, duration: .now - call.started,
                streamed: record.streamed
            ))
    }
}
