"""Drives model-service with the official OpenAI Python SDK, the way users do.

Usage: python3 openai_sdk_check.py BASE_URL TOKEN MODEL
Prints one JSON object: the plain answer, the streamed answer joined, usage, and how errors look.
"""
import json
import sys

import openai
from openai import OpenAI

base_url, token, model = sys.argv[1], sys.argv[2], sys.argv[3]
client = OpenAI(base_url=base_url, api_key=token, max_retries=0, timeout=60)

plain = client.chat.completions.create(
    model=model,
    messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello from the SDK"}],
    max_tokens=50,
)

pieces = []
usage = None
stream = client.chat.completions.create(
    model=model,
    messages=[{"role": "user", "content": "Hello from the SDK"}],
    stream=True,
    stream_options={"include_usage": True},
)
for chunk in stream:
    if chunk.choices and chunk.choices[0].delta.content:
        pieces.append(chunk.choices[0].delta.content)
    if chunk.usage:
        usage = chunk.usage.total_tokens

models = [m.id for m in client.models.list().data]

not_found = None
try:
    client.chat.completions.create(model="no/such-model", messages=[{"role": "user", "content": "x"}])
except openai.NotFoundError as error:
    not_found = {"status": error.status_code, "message": error.message}

unauthorized = None
try:
    OpenAI(base_url=base_url, api_key="wrong-token", max_retries=0).models.list()
except openai.AuthenticationError as error:
    unauthorized = error.status_code

print(json.dumps({
    "plain": plain.choices[0].message.content,
    "plainUsage": plain.usage.total_tokens if plain.usage else None,
    "finish": plain.choices[0].finish_reason,
    "streamed": "".join(pieces),
    "streamUsage": usage,
    "models": models,
    "notFound": not_found,
    "unauthorized": unauthorized,
}))
