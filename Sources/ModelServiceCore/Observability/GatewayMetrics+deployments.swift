import Prometheus

extension GatewayMetrics {
    /// An attempt on a deployment ended: answered after `firstByte` (the upstream's answer or the head of its
    /// stream), or failed. Labels are the registry model and the deployment id: at most
    /// ``Deployment/maxPerModel`` per model, so the set stays bounded by the registry.
    public func recordDeploymentAttempt(model: String, deployment: String, answered: Bool, firstByte: Duration) {
        let series = self.series.deployment(deployment) {
            let labels = [("model", model), ("deployment", deployment)]
            return SettlementSeries.DeploymentSeries(
                answered: registry.makeCounter(descriptor: Self.deploymentAttempts, labels: labels + [("outcome", "answered")]),
                failed: registry.makeCounter(descriptor: Self.deploymentAttempts, labels: labels + [("outcome", "failed")]),
                firstByte: registry.makeDurationHistogram(descriptor: Self.deploymentFirstByte, labels: labels, buckets: Self.durationBuckets))
        }
        if answered {
            series.answered.increment()
            series.firstByte.record(firstByte)
        } else {
            series.failed.increment()
        }
    }

    /// Calls in flight on a deployment, read from the router at scrape time.
    public func setDeploymentInFlight(model: String, deployment: String, inFlight: Int) {
        registry.makeGauge(descriptor: Self.deploymentInFlight, labels: [("model", model), ("deployment", deployment)]).set(to: Double(inFlight))
    }

    package static var deploymentAttempts: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "model_service", subsystem: "deployment", metricName: "attempts", unitName: "total",
            helpText: "Upstream attempts per model deployment, answered or failed.")
    }
    package static var deploymentFirstByte: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "model_service", subsystem: "deployment", metricName: "time_to_first_byte", unitName: "seconds",
            helpText: "Time from an attempt's start to the upstream's answer (a stream's head), per deployment.")
    }
    package static var deploymentInFlight: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "model_service", subsystem: "deployment", metricName: "in_flight", unitName: "",
            helpText: "Calls in flight per deployment on this instance.")
    }
}
