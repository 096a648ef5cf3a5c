import assert from "node:assert/strict";
import { Dashboard, type Terminal } from "../../src/dashboard/mod.ts";
import { snapshot as snapshotWith } from "./_fixtures.ts";

const enc = new TextEncoder();

/** A terminal that records what it is sent and is fed keys by the test. */
function fakeTerminal(columns = 80, rows = 24) {
  const writes: string[] = [];
  const raw: boolean[] = [];
  const size = { columns, rows };
  let push: ((chunk: Uint8Array) => void) | undefined;
  let end: (() => void) | undefined;
  const terminal: Terminal = {
    write: (t) => void writes.push(t),
    size: () => size,
    setRaw: (on) => void raw.push(on),
    async *keys() {
      for (;;) {
        const chunk = await new Promise<Uint8Array | null>((resolve) => {
          push = resolve;
          end = () => resolve(null);
        });
        if (chunk === null) return;
        yield chunk;
      }
    },
  };
  const press = async (key: string) => {
    push?.(enc.encode(key));
    await new Promise((r) => setTimeout(r, 0));
  };
  return { terminal, writes, raw, size, press, close: () => end?.() };
}

/** A dashboard on the fake terminal `t`, three backends, redrawn only on demand. */
function dashboardOn(t: ReturnType<typeof fakeTerminal>, onQuit: () => void = () => {}): Dashboard {
  return new Dashboard({
    snapshot: () => snapshotWith(3),
    refreshMs: 60_000,
    onQuit,
    terminal: t.terminal,
    color: false,
  });
}

function visible(frame: string): string {
  // deno-lint-ignore no-control-regex
  return frame.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");
}

Deno.test("the dashboard takes over the terminal, draws a whole frame per write, and gives it back", () => {
  const t = fakeTerminal();
  const dash = dashboardOn(t);
  dash.start();
  assert.deepEqual(t.raw, [true]);
  assert.ok(t.writes[0]!.includes("\x1b[?1049h"), "alternate screen");
  assert.ok(t.writes[0]!.includes("\x1b[?25l"), "cursor hidden");
  const frame = t.writes[1]!;
  assert.ok(frame.startsWith("\x1b[H"), "a frame starts at home and is written at once");
  assert.match(visible(frame), /Aegis/);
  assert.match(visible(frame), /q quit/);
  dash.stop();
  assert.ok(t.writes.at(-1)!.includes("\x1b[?25h\x1b[?1049l"), "cursor shown, main screen back");
  assert.deepEqual(t.raw, [true, false]);
  dash.stop(); // twice is fine
  t.close();
});

Deno.test("keys: q and Ctrl+C quit once, p pauses, arrows scroll the event log", async () => {
  const t = fakeTerminal();
  let quits = 0;
  const dash = dashboardOn(t, () => quits++);
  dash.start();
  await t.press("p");
  assert.equal(dash.view.paused, true);
  assert.match(visible(t.writes.at(-1)!), /PAUSED/);
  await t.press("p");
  assert.equal(dash.view.paused, false);
  await t.press("\x1b[B");
  await t.press("\x1b[B");
  await t.press("\x1b[A");
  assert.equal(dash.view.eventScroll, 1);
  await t.press("\x1b[A");
  await t.press("\x1b[A");
  assert.equal(dash.view.eventScroll, 0, "never scrolls above the newest event");
  await t.press("q");
  await t.press("\x03");
  assert.equal(quits, 1, "quit is requested once");
  dash.stop();
  t.close();
});

Deno.test("the dashboard follows the terminal size on the next frame", async () => {
  const t = fakeTerminal(80, 24);
  const dash = dashboardOn(t);
  dash.start();
  const lines = (frame: string) => visible(frame).split("\r\n");
  assert.equal(lines(t.writes.at(-1)!).length, 24);
  t.size.columns = 120;
  t.size.rows = 40;
  await t.press("p"); // any redraw
  const frame = lines(t.writes.at(-1)!);
  assert.equal(frame.length, 40);
  assert.ok(frame.every((l) => l.length <= 120));
  dash.stop();
  t.close();
});
