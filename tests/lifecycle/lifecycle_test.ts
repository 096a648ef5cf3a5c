/** Lifecycle: ordered start, reverse stop exactly once, and a failed start undone. */

import assert from "node:assert/strict";
import { Lifecycle, LifecycleStoppedError } from "../../src/lifecycle/mod.ts";

const none = { permissions: "none" } as const;

/** A synchronous part that notes its disposal in `log`. */
function part(name: string, log: string[]): Disposable {
  return { [Symbol.dispose]: () => void log.push(name) };
}

/** An asynchronous part whose disposal ends when the test says so. */
function slowPart(name: string, log: string[]) {
  const done = Promise.withResolvers<void>();
  return {
    finish: () => done.resolve(),
    part: {
      [Symbol.asyncDispose]: async () => {
        log.push(`${name} begins`);
        await done.promise;
        log.push(`${name} ends`);
      },
    } satisfies AsyncDisposable,
  };
}

Deno.test(
  "Lifecycle.stop() disposes parts in reverse order of start, each once, however often it is called",
  none,
  async () => {
    const log: string[] = [];
    const life = new Lifecycle();
    const first = part("transport", log);
    assert.equal(life.start(() => first), first, "start() returns the part");
    life.start(() => part("watchdog", log));
    life.start(() => part("listener", log));
    const stopping = life.stop();
    assert.equal(life.stop(), stopping, "a second stop is the same stop");
    await stopping;
    await life[Symbol.asyncDispose]();
    assert.deepEqual(log, ["listener", "watchdog", "transport"]);
  },
);

Deno.test("Lifecycle.defer() steps run in their place among the parts", none, async () => {
  const log: string[] = [];
  const life = new Lifecycle();
  life.start(() => part("watchdog", log));
  life.defer(() => void log.push("abort root"));
  life.start(() => part("admin", log));
  life.defer(() => void log.push("drain"));
  await life.stop();
  assert.deepEqual(log, ["drain", "admin", "abort root", "watchdog"]);
});

Deno.test(
  "Lifecycle.stop() waits for each asynchronous disposal before the next",
  none,
  async () => {
    const log: string[] = [];
    const life = new Lifecycle();
    life.start(() => part("watchdog", log));
    const loops = slowPart("loops", log);
    life.start(() => loops.part);
    const listener = slowPart("listener", log);
    life.start(() => listener.part);
    const stopped = life.stop();
    await Promise.resolve();
    assert.deepEqual(log, ["listener begins"]);
    listener.finish();
    loops.finish();
    await stopped;
    assert.deepEqual(log, [
      "listener begins",
      "listener ends",
      "loops begins",
      "loops ends",
      "watchdog",
    ]);
  },
);

Deno.test(
  "a part that fails to start undoes the parts started before it, in reverse, and the error comes through as it was",
  none,
  async () => {
    const log: string[] = [];
    const life = new Lifecycle();
    life.start(() => part("transport", log));
    life.defer(() => void log.push("abort root"));
    life.start(() => part("public listener", log));
    const taken = new Deno.errors.AddrInUse("address in use");
    let opened = false;
    assert.throws(
      () =>
        life.start((): Disposable => {
          opened = true;
          throw taken;
        }),
      (e) => e === taken,
    );
    assert.ok(opened);
    assert.equal(life.stopping, true);
    await life.stop();
    assert.deepEqual(log, ["public listener", "abort root", "transport"]);
  },
);

Deno.test(
  "a failed start disposes synchronous parts before the event loop turns",
  none,
  async () => {
    const log: string[] = [];
    const life = new Lifecycle();
    life.start(() => part("a", log));
    life.start(() => part("b", log));
    life.start(() => part("c", log));
    assert.throws(() =>
      life.start((): Disposable => {
        throw new Error("no");
      })
    );
    // A macrotask: every microtask queued by the undo has run by now.
    await new Promise((r) => setTimeout(r, 0));
    assert.deepEqual(log, ["c", "b", "a"]);
  },
);

Deno.test(
  "Lifecycle.start() and defer() refuse once stopping, without opening anything",
  none,
  async () => {
    const life = new Lifecycle();
    const stopped = life.stop();
    let opened = false;
    assert.throws(() =>
      life.start(() => {
        opened = true;
        return { [Symbol.dispose]() {} };
      }), LifecycleStoppedError);
    assert.equal(opened, false);
    assert.throws(() => life.defer(() => {}), LifecycleStoppedError);
    await stopped;
  },
);

Deno.test(
  "a part that fails to dispose does not stop the others; stop() then rejects with its error",
  none,
  async () => {
    const log: string[] = [];
    const life = new Lifecycle();
    life.start(() => part("first", log));
    life.start(() => ({
      [Symbol.dispose]() {
        throw new Error("dispose failed");
      },
    }));
    life.start(() => part("last", log));
    await assert.rejects(life.stop(), /dispose failed/);
    assert.deepEqual(log, ["last", "first"]);
  },
);

Deno.test(
  "a failure while undoing a failed start goes to onUndoError; the start's own error is thrown",
  none,
  async () => {
    const undo = Promise.withResolvers<unknown>();
    const life = new Lifecycle({ onUndoError: undo.resolve });
    life.start(() => ({
      [Symbol.dispose]() {
        throw new Error("undo failed");
      },
    }));
    assert.throws(() =>
      life.start((): Disposable => {
        throw new Error("start failed");
      }), /start failed/);
    assert.match(String(await undo.promise), /undo failed/);
  },
);
