"""Drives model-service's /v1/messages with the official Anthropic Python SDK, the way users do.

Usage: python3 anthropic_sdk_check.py BASE_URL TOKEN PROVIDER [PROVIDER ...]
For each provider the registry model is test-<provider>/fake-echo (text) and test-<provider>/fake-tool
(answers with a tool call). Prints one JSON object with what the SDK saw.
"""
import json
import sys

import anthropic
from anthropic import Anthropic

base_url, token, providers = sys.argv[1], sys.argv[2], sys.argv[3:]
# auth_token= sends `Authorization: Bearer`; the X-Api-Key header is what Claude Code and older SDKs send.
bearer = Anthropic(base_url=base_url, auth_token=token, api_key=None, max_retries=0, timeout=20)
api_key = Anthropic(base_url=base_url, api_key=None, auth_token=None, default_headers={"X-Api-Key": token}, max_retries=0, timeout=20)

SYSTEM = "You are terse."
TOOLS = [{
    "name": "get_weather",
    "description": "The weather in a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}]


def tool_use_of(message):
    blocks = [block for block in message.content if block.type == "tool_use"]
    return {"name": blocks[0].name, "input": blocks[0].input, "id": blocks[0].id} if blocks else None


def text_of(message):
    return "".join(block.text for block in message.content if block.type == "text")


results = {}
for provider in providers:
    echo, tool = f"test-{provider}/fake-echo", f"test-{provider}/fake-tool"
    question = [{"role": "user", "content": "Hello from the SDK"}]
    plain = api_key.messages.create(model=echo, max_tokens=50, system=SYSTEM, messages=question)
    with bearer.messages.stream(model=echo, max_tokens=50, system=SYSTEM, messages=question) as stream:
        streamed_text = "".join(stream.text_stream)
        streamed = stream.get_final_message()

    ask = [{"role": "user", "content": "Weather in Paris?"}]
    tool_plain = bearer.messages.create(model=tool, max_tokens=50, system=SYSTEM, messages=ask, tools=TOOLS)
    with api_key.messages.stream(model=tool, max_tokens=50, system=SYSTEM, messages=ask, tools=TOOLS) as stream:
        tool_streamed = stream.get_final_message()
    # The second turn answers the tool call with its result.
    call = tool_use_of(tool_plain)
    turn = ask + [
        {"role": "assistant", "content": [block.model_dump(exclude_none=True) for block in tool_plain.content]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call["id"], "content": "Sunny, 21 C"}]},
    ]
    after_tool = bearer.messages.create(model=echo, max_tokens=50, system=SYSTEM, messages=turn, tools=TOOLS)
    counted = bearer.messages.count_tokens(model=echo, system=SYSTEM, messages=question)

    results[provider] = {
        "plain": text_of(plain),
        "plainModel": plain.model,
        "plainStop": plain.stop_reason,
        "plainUsage": [plain.usage.input_tokens, plain.usage.output_tokens],
        "streamed": streamed_text,
        "streamedModel": streamed.model,
        "streamedStop": streamed.stop_reason,
        "streamedOutputTokens": streamed.usage.output_tokens,
        "toolPlain": tool_use_of(tool_plain),
        "toolPlainStop": tool_plain.stop_reason,
        "toolStreamed": tool_use_of(tool_streamed),
        "toolStreamedStop": tool_streamed.stop_reason,
        "afterTool": text_of(after_tool),
        "countTokens": counted.input_tokens,
    }


def error_of(call, kind):
    try:
        call()
    except kind as error:
        body = error.body if isinstance(error.body, dict) else {}
        return {"status": error.status_code, "type": (body.get("error") or {}).get("type"), "message": (body.get("error") or {}).get("message")}
    return None


question = [{"role": "user", "content": "x"}]
errors = {
    "authentication": error_of(
        lambda: Anthropic(base_url=base_url, auth_token="wrong-token", api_key=None, max_retries=0).messages.create(
            model="test-anthropic/fake-echo", max_tokens=5, messages=question), anthropic.AuthenticationError),
    "notFound": error_of(lambda: bearer.messages.create(model="no/such-model", max_tokens=5, messages=question), anthropic.NotFoundError),
    "badRequest": error_of(
        lambda: bearer.messages.create(model="test-openai/fake-echo", max_tokens=5, messages=[{"role": "user", "content": [{"type": "video"}]}]),
        anthropic.BadRequestError),
    "rateLimit": error_of(lambda: bearer.messages.create(model="test-gemini/fake-rate-limit", max_tokens=5, messages=question), anthropic.RateLimitError),
}
print(json.dumps({"results": results, "errors": errors}))
