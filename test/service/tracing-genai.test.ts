/**
 * How requests and answers of each API surface become GenAI attributes (TBO_TRACE_CONTENT): the
 * messages in the semantic conventions' JSON form, finish reasons, and the bound on recorded text.
 * The end-to-end path (spans exported by the service) is tracing.test.ts; these are the shapes it
 * does not send (OpenAI chat with tool calls, the Responses API, oversized prompts).
 */
import { finishReasonsOf, inputContent, MAX_CONTENT_CHARS, outputContent, responseIdOf } from '../../service/src/observability/tracing-genai';

const parse = (json: string | undefined) => JSON.parse(json ?? 'null') as unknown;

describe('OpenAI chat completions', () => {
  it('system, user, assistant tool calls and tool results become parts of the conventions', () => {
    const { system, messages } = inputContent({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: [{ type: 'text', text: 'weather?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: 'rain' },
      ],
    });
    expect(system).toBeUndefined(); // chat history keeps its system message
    expect(parse(messages?.json)).toEqual([
      { role: 'system', parts: [{ type: 'text', content: 'be brief' }] },
      { role: 'user', parts: [{ type: 'text', content: 'weather?' }, { type: 'image_url' }] },
      { role: 'assistant', parts: [{ type: 'tool_call', id: 'call_1', name: 'weather', arguments: '{"city":"Oslo"}' }] },
      { role: 'tool', parts: [{ type: 'tool_call_response', id: 'call_1', response: 'rain' }] },
    ]);
  });

  it('each choice is an output message with its finish reason', () => {
    const answer = { id: 'chatcmpl-1', choices: [{ index: 0, message: { role: 'assistant', content: 'Rain.' }, finish_reason: 'stop' }, { index: 1, message: { role: 'assistant', content: 'Wet' }, finish_reason: 'length' }] };
    expect(responseIdOf(answer)).toBe('chatcmpl-1');
    expect(finishReasonsOf(answer)).toEqual(['stop', 'length']);
    expect(parse(outputContent(answer)?.json)).toEqual([
      { role: 'assistant', parts: [{ type: 'text', content: 'Rain.' }], finish_reason: 'stop' },
      { role: 'assistant', parts: [{ type: 'text', content: 'Wet' }], finish_reason: 'length' },
    ]);
  });
});

describe('Anthropic messages', () => {
  it('the system prompt is gen_ai.system_instructions; tool use and results are parts', () => {
    const { system, messages } = inputContent({
      system: [{ type: 'text', text: 'be brief' }],
      messages: [
        { role: 'user', content: 'weather?' },
        { role: 'assistant', content: [{ type: 'thinking', thinking: 'look it up' }, { type: 'tool_use', id: 'tu_1', name: 'weather', input: { city: 'Oslo' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'tu_1', content: [{ type: 'text', text: 'rain' }] }] },
      ],
    });
    expect(parse(system?.json)).toEqual([{ type: 'text', content: 'be brief' }]);
    expect(parse(messages?.json)).toEqual([
      { role: 'user', parts: [{ type: 'text', content: 'weather?' }] },
      { role: 'assistant', parts: [{ type: 'reasoning', content: 'look it up' }, { type: 'tool_call', id: 'tu_1', name: 'weather', arguments: '{"city":"Oslo"}' }] },
      { role: 'user', parts: [{ type: 'tool_call_response', id: 'tu_1', response: 'rain' }] },
    ]);
  });
});

describe('the Responses API', () => {
  it('instructions, input items and output items', () => {
    const { system, messages } = inputContent({ instructions: 'be brief', input: [{ role: 'user', content: [{ type: 'input_text', text: 'hi' }] }, { type: 'function_call_output', call_id: 'c1', output: '42' }] });
    expect(parse(system?.json)).toEqual([{ type: 'text', content: 'be brief' }]);
    expect(parse(messages?.json)).toEqual([
      { role: 'user', parts: [{ type: 'text', content: 'hi' }] },
      { role: 'tool', parts: [{ type: 'tool_call_response', id: 'c1', response: '42' }] },
    ]);
    const answer = { id: 'resp_1', status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, output: [{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Hel' }] }] };
    expect(finishReasonsOf(answer)).toEqual(['max_output_tokens']);
    expect(parse(outputContent(answer)?.json)).toEqual([{ role: 'assistant', parts: [{ type: 'text', content: 'Hel' }], finish_reason: 'max_output_tokens' }]);
  });

  it('a plain string input is one user message', () => {
    expect(parse(inputContent({ input: 'hello' }).messages?.json)).toEqual([{ role: 'user', parts: [{ type: 'text', content: 'hello' }] }]);
  });
});

describe('the bound', () => {
  it(`keeps at most ${MAX_CONTENT_CHARS} characters of text per attribute and says it cut`, () => {
    const long = 'x'.repeat(MAX_CONTENT_CHARS - 10);
    const { messages } = inputContent({ messages: [{ role: 'user', content: long }, { role: 'user', content: 'y'.repeat(100) }, { role: 'user', content: 'z' }] });
    const parts = (parse(messages?.json) as { parts: { content: string }[] }[]).map((m) => m.parts[0].content);
    expect(parts.map((p) => p.length)).toEqual([MAX_CONTENT_CHARS - 10, 10, 0]);
    expect(messages?.truncated).toBe(true);
    expect(inputContent({ messages: [{ role: 'user', content: 'short' }] }).messages?.truncated).toBe(false);
  });
});
