import Foundation
import Testing

@testable import ModelService
@testable import ModelServiceCore

/// Where a Bedrock call goes and which region it is signed for: the model's region, else `AWS_REGION`, else
/// us-east-1; a deployment's region; `BEDROCK_BASE_URL` for every region; and the endpoint a stored key is bound to.
@Suite struct BedrockEndpointsTests {
    static func model(region: String? = nil, baseURL: String? = nil) -> Model {
        var model = testModel
        model.provider = .bedrock
        model.modelId = "amazon.nova-lite-v1:0"
        if let region { model.providerSettings["region"] = .string(region) }
        if let baseURL { model.providerSettings["baseURL"] = .string(baseURL) }
        return model
    }

    @Test func theRegionPicksTheRuntimeEndpoint() {
        let endpoints = UpstreamEndpoints(environment: ["AWS_REGION": "eu-west-1"])
        #expect(endpoints.baseURL(for: Self.model()) == "https://bedrock-runtime.eu-west-1.amazonaws.com")
        #expect(endpoints.baseURL(for: Self.model(region: "us-west-2")) == "https://bedrock-runtime.us-west-2.amazonaws.com")
        #expect(endpoints.baseURL(for: .bedrock) == "https://bedrock-runtime.eu-west-1.amazonaws.com")
        #expect(endpoints.settings(for: Self.model())["region"] == .string("eu-west-1"))
        #expect(endpoints.baseURL(for: Self.model(baseURL: "https://proxy.example.com/bedrock")) == "https://proxy.example.com/bedrock")
        #expect(UpstreamEndpoints(environment: [:]).baseURL(for: Self.model()) == "https://bedrock-runtime.us-east-1.amazonaws.com")
        // A region that is no region name never reaches a host name.
        #expect(UpstreamEndpoints(environment: ["AWS_REGION": "x.evil.com/"]).bedrockRegion == "us-east-1")
        var deployment = Deployment(id: "dep_tokyo")
        deployment.region = "ap-northeast-1"
        let deployed = Self.model(region: "us-west-2").deployed(on: deployment)
        #expect(endpoints.baseURL(for: deployed) == "https://bedrock-runtime.ap-northeast-1.amazonaws.com")
        #expect(endpoints.settings(for: deployed)["region"] == .string("ap-northeast-1"))
        // Other providers only show a settings region: nothing is added for them.
        #expect(endpoints.settings(for: testModel)["region"] == nil)
    }

    @Test func bedrockBaseURLStandsForEveryRegion() {
        let endpoints = UpstreamEndpoints(environment: ["BEDROCK_BASE_URL": "http://127.0.0.1:9/bedrock", "AWS_REGION": "eu-west-1"])
        #expect(endpoints.baseURL(for: Self.model(region: "us-west-2")) == "http://127.0.0.1:9/bedrock")
        #expect(endpoints.bedrockBaseURL(region: "ap-south-1") == "http://127.0.0.1:9/bedrock")
        // The signing region still follows the model.
        #expect(endpoints.settings(for: Self.model(region: "us-west-2"))["region"] == .string("us-west-2"))
    }

    @Test func aKeyIsBoundToItsRegionsEndpoint() throws {
        let endpoints = UpstreamEndpoints(environment: [:])
        let fields = ProviderKeyFields(apiKey: nil, accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: Secret("s3cret/value"), sessionToken: nil, region: "eu-west-1")
        let credential = try fields.credential(for: .bedrock, endpoint: nil, metadata: ["team": .string("x")], endpoints: endpoints)
        #expect(credential.endpoint == "https://bedrock-runtime.eu-west-1.amazonaws.com")
        #expect(credential.metadata == ["team": .string("x"), "region": .string("eu-west-1")])
        // A model in another region calls another endpoint, where this key is never sent.
        #expect(EndpointURL.normalized(endpoints.baseURL(for: Self.model(region: "us-east-1"))) != EndpointURL.normalized(credential.endpoint ?? ""))
        #expect(EndpointURL.normalized(endpoints.baseURL(for: Self.model(region: "eu-west-1"))) == EndpointURL.normalized(credential.endpoint ?? ""))
        // The region cannot move a stored key; other providers take no AWS field.
        #expect(throws: ServiceError.self) { try ProviderKeyFields(region: "us-east-1").replacement(for: .bedrock) }
        #expect(throws: ServiceError.self) { try fields.credential(for: .openai, endpoint: nil, metadata: nil, endpoints: endpoints) }
    }

    @Test func halvesOfTheKeyPairAreNeverAKeyVariable() {
        let variables = ProviderKeyVariables(environment: ["PROVIDER_KEY_VARIABLES": "AWS_SECRET_ACCESS_KEY,AWS_SESSION_TOKEN,AWS_ACCESS_KEY_ID"])
        #expect(variables.allows("AWS_BEARER_TOKEN_BEDROCK"))
        for name in ["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID"] { #expect(!variables.allows(name), "\(name)") }
        let environment = ["AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "s3cret/value"]
        let pair = EnvironmentCredential.read("AWS_BEARER_TOKEN_BEDROCK", provider: .bedrock, environment: environment)
        #expect(pair.flatMap { BedrockCredential.keyPair(in: $0.secret.reveal) }?.secretAccessKey == "s3cret/value")
        #expect(pair?.source == "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
        // The API key wins, as in the AWS SDKs; another provider never reads the pair.
        #expect(EnvironmentCredential.read("AWS_BEARER_TOKEN_BEDROCK", provider: .bedrock, environment: environment.merging(["AWS_BEARER_TOKEN_BEDROCK": "ABSK1"]) { $1 })?.secret.reveal == "ABSK1")
        #expect(EnvironmentCredential.read("OPENAI_API_KEY", provider: .openai, environment: environment) == nil)
    }
}
