"""Drives model-service's /v1/embeddings and /v1/responses with the official OpenAI Python SDK.

Usage: python3 openai_embeddings_responses_check.py BASE_URL TOKEN EMBEDDING_MODEL... -- RESPONSES_MODEL...
The SDK asks embeddings in base64 unless told otherwise; it decodes them back to floats.
Prints one JSON object.
"""
import json
import sys

from openai import OpenAI

base_url, token = sys.argv[1], sys.argv[2]
split = sys.argv.index("--")
embedding_models, responses_models = sys.argv[3:split], sys.argv[split + 1:]
client = OpenAI(base_url=base_url, api_key=token, max_retries=0, timeout=60)

embeddings = {}
for model in embedding_models:
    default = client.embeddings.create(model=model, input=["one two three", "four"])
    floats = client.embeddings.create(model=model, input="one two three", encoding_format="float")
    embeddings[model] = {
        "count": len(default.data),
        "dimensions": len(default.data[0].embedding),
        "sameAsFloat": all(abs(a - b) < 1e-6 for a, b in zip(default.data[0].embedding, floats.data[0].embedding)),
        "model": default.model,
        "promptTokens": default.usage.prompt_tokens,
    }

responses = {}
for model in responses_models:
    plain = client.responses.create(model=model, input="Hello responses", instructions="Be brief.")
    streamed = []
    completed = None
    for event in client.responses.create(model=model, input="Hello responses", stream=True):
        if event.type == "response.output_text.delta":
            streamed.append(event.delta)
        elif event.type == "response.completed":
            completed = event.response
    responses[model] = {
        "text": plain.output_text,
        "model": plain.model,
        "inputTokens": plain.usage.input_tokens,
        "streamed": "".join(streamed),
        "streamedFinalModel": completed.model,
    }

print(json.dumps({"embeddings": embeddings, "responses": responses}))
