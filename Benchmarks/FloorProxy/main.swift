import AsyncHTTPClient
import Dispatch
import Hummingbird
import ModelServiceCore
import NIOCore
import NIOPosix

// The framework floor of the gateway (issue 13): the same HTTP server (Hummingbird), HTTP client
// (AsyncHTTPClient, same pool and no decompression) and executor setup as `model-service serve`, doing
// nothing but relay `POST /v1/chat/completions` to one upstream URL: no auth, registry, key, budget,
// limit, usage or metrics. What it costs per call is what the gateway cannot go below without
// changing those libraries; `run.sh --floor` measures it beside the gateway.
//
//   FloorProxy <port> <upstream chat-completions URL>

let arguments = CommandLine.arguments
guard arguments.count == 3, let port = Int(arguments[1]) else {
    print("usage: FloorProxy <port> <upstream chat-completions URL>")
    exit(2)
}
let upstreamURL = arguments[2]
_ = GenericJobsOnEventLoops.install()

let finished = DispatchSemaphore(value: 0)
Task.detached {
    var configuration = HTTPClient.Configuration(
        redirectConfiguration: .disallow,
        connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 64),
        decompression: .disabled)
    configuration.httpVersion = .automatic
    let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
    let router = Router()
    router.post("/v1/chat/completions") { request, _ -> Response in
        let body = try await request.body.collect(upTo: 32 << 20)
        var upstream = HTTPClientRequest(url: upstreamURL)
        upstream.method = .POST
        upstream.headers.add(name: "content-type", value: "application/json")
        upstream.headers.add(name: "authorization", value: "Bearer sk-floor-0123456789")
        upstream.body = .bytes(body)
        let response = try await client.execute(upstream, timeout: .seconds(60))
        let contentType = response.headers.first(name: "content-type") ?? "application/json"
        if contentType.hasPrefix("text/event-stream") {
            return Response(status: .ok, headers: [.contentType: contentType], body: ResponseBody(asyncSequence: response.body))
        }
        let answer = try await response.body.collect(upTo: 32 << 20)
        return Response(status: .ok, headers: [.contentType: contentType], body: .init(byteBuffer: answer))
    }
    let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "floor"))
    do {
        try await app.runService()
    } catch {
        print("FloorProxy: \(error)")
    }
    try? await client.shutdown()
    finished.signal()
}
finished.wait()
