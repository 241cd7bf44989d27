import Dispatch
import HTTPTypes
import Hummingbird
import Metrics
import Synchronization
import ModelServiceCore

/// HTTP server metrics under Hummingbird's names (`hb.requests`, `http.server.request.duration`,
/// `hb.request.errors`, `http.server.active_requests`) without giving up its one-write response path.
///
/// Hummingbird's `MetricsMiddleware` wraps every response body in a closure to time the write. A body
/// of one buffer then goes out as a head write and a body write (two system calls, two packets the
/// client reads) instead of one: on the gateway's JSON answers that cost more than the metrics. Here a
/// body of known length is recorded when the handler hands it over (writing it is one non-blocking
/// socket write); only a stream's duration is taken when its last byte is written.
struct HTTPMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    private let instruments: Instruments

    /// `factory`: the process's metrics system unless a test passes its own registry's.
    init(factory: any MetricsFactory = MetricsSystem.factory) {
        instruments = Instruments(factory: factory)
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = DispatchTime.now().uptimeNanoseconds
        let active = instruments.active(request.method)
        active.increment()
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            let status = (error as? any HTTPResponseError)?.status ?? .internalServerError
            let endpoint = instruments.endpoint(.init(route: context.endpointPath ?? "NotFound", method: request.method, status: status))
            endpoint.requests.increment()
            endpoint.errors.increment()
            active.decrement()
            throw error
        }
        let endpoint = instruments.endpoint(.init(route: context.endpointPath ?? "Unknown", method: request.method, status: response.status))
        let record: @Sendable () -> Void = {
            endpoint.requests.increment()
            endpoint.duration.recordNanoseconds(DispatchTime.now().uptimeNanoseconds - started)
            active.decrement()
        }
        if response.body.contentLength != nil {
            record()
        } else {
            let body = response.body
            response.body = ResponseBody { writer in
                do {
                    try await body.write(writer)
                    record()
                } catch {
                    record()
                    throw error
                }
            }
        }
        return response
    }

    /// The metric objects per method and per route, method and status, made once each.
    private final class Instruments: Sendable {
        struct EndpointKey: Hashable {
            var route: String
            var method: HTTPRequest.Method
            var status: HTTPResponse.Status
        }

        struct Endpoint: Sendable {
            let requests: Counter
            let duration: Metrics.Timer
            let errors: Counter

            init(_ key: EndpointKey, factory: any MetricsFactory) {
                let dimensions = [
                    ("http.route", key.route), ("http.request.method", key.method.rawValue),
                    ("http.response.status_code", String(key.status.code)),
                ]
                requests = Counter(label: "hb.requests", dimensions: dimensions, factory: factory)
                duration = Metrics.Timer(
                    label: "http.server.request.duration", dimensions: dimensions, preferredDisplayUnit: .seconds, factory: factory)
                errors = Counter(
                    label: "hb.request.errors",
                    dimensions: [("http.route", key.route), ("http.request.method", key.method.rawValue), ("error.type", String(key.status.code))],
                    factory: factory)
            }
        }

        private let factory: any MetricsFactory
        private let meters = Mutex<[HTTPRequest.Method: Meter]>([:])
        private let endpoints = Mutex<[EndpointKey: Endpoint]>([:])

        init(factory: any MetricsFactory) {
            self.factory = factory
        }

        func active(_ method: HTTPRequest.Method) -> Meter {
            meters.withLock { meters in
                if let meter = meters[method] { return meter }
                let meter = Meter(label: "http.server.active_requests", dimensions: [("http.request.method", method.rawValue)], factory: factory)
                meters[method] = meter
                return meter
            }
        }

        func endpoint(_ key: EndpointKey) -> Endpoint {
            endpoints.withLock { endpoints in
                if let endpoint = endpoints[key] { return endpoint }
                let endpoint = Endpoint(key, factory: factory)
                endpoints[key] = endpoint
                return endpoint
            }
        }
    }
}
