import assert from "node:assert/strict";
import { Watchdog } from "../../src/clock/mod.ts";
import { ManualClock } from "../_helpers/clock.ts";

const none = { permissions: "none" } as const;

/** A watchdog on a manual clock, sweeping every 100 ms. */
function setup() {
  const clock = new ManualClock();
  const dog = new Watchdog({ clock, tickMs: 100 });
  return { clock, dog };
}

Deno.test(
  "Watchdog expires an armed watch once its deadline passes, not before",
  none,
  async (t) => {
    const { clock, dog } = setup();
    let expired = 0;
    const watch = dog.watch(() => expired++);
    watch.arm(1000);
    await t.step("one tick short of the deadline nothing happens", () => {
      clock.advance(999);
      assert.equal(expired, 0);
    });
    await t.step("at the deadline the watch expires", () => {
      clock.advance(1);
      assert.equal(expired, 1);
      assert.equal(dog.size, 0);
    });
    await t.step("an expired watch does not expire again", () => {
      clock.advance(10_000);
      assert.equal(expired, 1);
    });
    dog[Symbol.dispose]();
  },
);

Deno.test("Watchdog fires a deadline between ticks at the next sweep", none, () => {
  const { clock, dog } = setup();
  let expiredAt: number | undefined;
  dog.watch(() => expiredAt = clock.now()).arm(150);
  clock.advance(1000);
  assert.equal(expiredAt, 1200); // started at 1000; deadline 1150; next sweep at 1200
  dog[Symbol.dispose]();
});

Deno.test("Watchdog: re-arming a watch moves its deadline", none, async (t) => {
  const { clock, dog } = setup();
  let expired = 0;
  const watch = dog.watch(() => expired++);
  watch.arm(500);
  clock.advance(400);
  watch.arm(500); // now due at 1900
  await t.step("the old deadline passes without expiry", () => {
    clock.advance(400);
    assert.equal(expired, 0);
  });
  await t.step("the new deadline expires it", () => {
    clock.advance(100);
    assert.equal(expired, 1);
  });
  await t.step("re-arming can also bring a deadline closer", () => {
    watch.arm(10_000);
    watch.arm(100);
    clock.advance(100);
    assert.equal(expired, 2);
  });
  dog[Symbol.dispose]();
});

Deno.test("Watchdog: a disarmed watch never expires until armed again", none, () => {
  const { clock, dog } = setup();
  let expired = 0;
  const watch = dog.watch(() => expired++);
  watch.arm(100);
  watch.disarm();
  clock.advance(10_000);
  assert.equal(expired, 0);
  watch.arm(100);
  clock.advance(100);
  assert.equal(expired, 1);
  dog[Symbol.dispose]();
});

Deno.test("Watchdog: a disposed watch never expires", none, () => {
  const { clock, dog } = setup();
  let expired = 0;
  const watch = dog.watch(() => expired++);
  watch.arm(100);
  watch[Symbol.dispose]();
  clock.advance(10_000);
  assert.equal(expired, 0);
  assert.equal(dog.size, 0);
  dog[Symbol.dispose]();
});

Deno.test("Watchdog: arming a disposed watch does nothing", none, () => {
  const { clock, dog } = setup();
  let expired = 0;
  const watch = dog.watch(() => expired++);
  watch[Symbol.dispose]();
  watch.arm(100);
  assert.equal(dog.size, 0);
  assert.equal(clock.pending, 0);
  clock.advance(10_000);
  dog.sweep(clock.now() + 10_000);
  assert.equal(expired, 0);
  dog[Symbol.dispose]();
});

Deno.test("Watchdog schedules its sweep timer only while a watch is armed", none, async (t) => {
  const { clock, dog } = setup();
  await t.step("no timer before anything is armed", () => {
    dog.watch(() => {});
    assert.equal(clock.pending, 0);
  });
  const a = dog.watch(() => {});
  const b = dog.watch(() => {});
  await t.step("one timer however many watches are armed", () => {
    a.arm(1000);
    b.arm(2000);
    a.arm(3000);
    assert.equal(clock.pending, 1);
    assert.equal(dog.size, 2);
  });
  await t.step("the timer keeps running while watches stay armed", () => {
    clock.advance(500);
    assert.equal(clock.pending, 1);
  });
  await t.step("the timer stops after the sweep that finds nothing armed", () => {
    a.disarm();
    b.disarm();
    assert.equal(dog.size, 0);
    clock.advance(100);
    assert.equal(clock.pending, 0);
  });
  await t.step("the timer stops once the last watch expires", () => {
    let expired = false;
    dog.watch(() => expired = true).arm(250);
    assert.equal(clock.pending, 1);
    clock.advance(300);
    assert.equal(expired, true);
    assert.equal(clock.pending, 0);
  });
  await t.step("arming again restarts the timer", () => {
    a.arm(100);
    assert.equal(clock.pending, 1);
    clock.advance(100);
    assert.equal(clock.pending, 0);
  });
  dog[Symbol.dispose]();
});

Deno.test("Watchdog expires several due watches in one sweep and leaves later ones", none, () => {
  const { clock, dog } = setup();
  const fired: string[] = [];
  dog.watch(() => fired.push("a")).arm(100);
  dog.watch(() => fired.push("b")).arm(100);
  dog.watch(() => fired.push("c")).arm(300);
  clock.advance(100);
  assert.deepEqual(fired.sort(), ["a", "b"]);
  assert.equal(dog.size, 1);
  clock.advance(200);
  assert.deepEqual(fired.sort(), ["a", "b", "c"]);
  dog[Symbol.dispose]();
});

Deno.test("Watchdog: an onExpire that throws does not stop the others", none, () => {
  const { clock, dog } = setup();
  const fired: string[] = [];
  dog.watch(() => {
    fired.push("thrower");
    throw new Error("boom");
  }).arm(100);
  dog.watch(() => fired.push("other")).arm(100);
  clock.advance(100);
  assert.deepEqual(fired, ["thrower", "other"]);
  assert.equal(dog.size, 0);
  assert.equal(clock.pending, 0);
  dog[Symbol.dispose]();
});

Deno.test("Watchdog: an onExpire may re-arm its own watch", none, () => {
  const { clock, dog } = setup();
  let expired = 0;
  const watch = dog.watch(() => {
    if (++expired < 3) watch.arm(200);
  });
  watch.arm(200);
  clock.advance(10_000);
  assert.equal(expired, 3);
  assert.equal(clock.pending, 0);
  dog[Symbol.dispose]();
});

Deno.test("Watchdog.sweep() expires due watches without waiting for the timer", none, async (t) => {
  const { clock, dog } = setup();
  let expired = 0;
  dog.watch(() => expired++).arm(50);
  await t.step("not yet due", () => {
    dog.sweep();
    assert.equal(expired, 0);
  });
  await t.step("due at an explicit now", () => {
    dog.sweep(clock.now() + 50);
    assert.equal(expired, 1);
  });
  dog[Symbol.dispose]();
});

Deno.test("Watchdog disposal stops everything", none, async (t) => {
  const { clock, dog } = setup();
  let expired = 0;
  const watch = dog.watch(() => expired++);
  watch.arm(100);
  dog[Symbol.dispose]();
  await t.step("the sweep timer is cancelled", () => assert.equal(clock.pending, 0));
  await t.step("armed watches are forgotten", () => assert.equal(dog.size, 0));
  await t.step("nothing expires afterwards", () => {
    clock.advance(10_000);
    assert.equal(expired, 0);
  });
  await t.step("arming afterwards starts no timer", () => {
    watch.arm(100);
    assert.equal(clock.pending, 0);
    clock.advance(10_000);
    assert.equal(expired, 0);
  });
  await t.step("disposing twice is harmless", () => dog[Symbol.dispose]());
});

Deno.test("Watchdog works with `using`", none, () => {
  const clock = new ManualClock();
  let expired = 0;
  {
    using dog = new Watchdog({ clock, tickMs: 100 });
    using watch = dog.watch(() => expired++);
    watch.arm(100);
    assert.equal(clock.pending, 1);
  }
  assert.equal(clock.pending, 0);
  clock.advance(1000);
  assert.equal(expired, 0);
});
