"""The dynamic batcher on its own (no model, no HTTP): callers get their own rows in order, whole
requests are batched together up to max_batch_size, a failing predict fails only its batch."""

import asyncio
import time

import numpy as np
import pytest

from mltc_keras.serving.batching import BatchFailed, Batcher


def rows_of(texts):
    """A stand-in predict: each text's row is (its number, its length), so a mix-up shows."""
    return np.array([[float(t.split("-")[1]), len(t)] for t in texts])


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, timeout=30))


def test_concurrent_callers_get_their_own_rows_in_order():
    calls = []

    def predict(texts):
        calls.append(len(texts))
        time.sleep(0.01)
        return rows_of(texts)

    async def main():
        batcher = Batcher(predict, max_batch_size=16, max_wait_ms=20)
        batcher.start()
        requests = [[f"t-{i * 10 + j}" for j in range(1 + i % 4)] for i in range(40)]
        answers = await asyncio.gather(*(batcher.submit(r) for r in requests))
        await batcher.stop()
        return requests, answers

    requests, answers = run(main())
    for texts, rows in zip(requests, answers):
        np.testing.assert_array_equal(rows, rows_of(texts))
    assert sum(calls) == sum(map(len, requests))
    assert max(calls) <= 16 and len(calls) < len(requests)  # batched, never above the cap


def test_a_request_is_never_split_and_batch_size_one_predicts_each_alone():
    calls = []

    def predict(texts):
        calls.append(list(texts))
        return rows_of(texts)

    async def main(max_batch_size):
        batcher = Batcher(predict, max_batch_size=max_batch_size, max_wait_ms=50)
        batcher.start()
        requests = [[f"a-{i}" for i in range(5)], ["b-1"], [f"c-{i}" for i in range(3)]]
        answers = await asyncio.gather(*(batcher.submit(r) for r in requests))
        await batcher.stop()
        return requests, answers

    requests, answers = run(main(1))
    assert calls == requests  # each request alone, whole, even the one above the cap
    calls.clear()
    requests, answers = run(main(6))
    assert calls == [requests[0] + requests[1], requests[2]]  # the third does not fit in 6


def test_a_lone_request_does_not_wait_for_company_that_is_not_coming():
    async def main():
        batcher = Batcher(rows_of, max_batch_size=64, max_wait_ms=5000)
        batcher.start()
        started = time.monotonic()
        await batcher.submit(["x-1"])
        alone = time.monotonic() - started
        # one more request announced as being read: the batch waits for it (here 0.2 s)
        with batcher.arriving() as late:
            first = asyncio.ensure_future(batcher.submit(["x-2"]))
            await asyncio.sleep(0.2)
            assert not first.done()
            second = await batcher.submit(["x-3"], late)
        await first
        await batcher.stop()
        return alone, second

    alone, second = run(main())
    assert alone < 1.0
    np.testing.assert_array_equal(second, rows_of(["x-3"]))


def test_a_failing_predict_fails_its_batch_only():
    def predict(texts):
        if any(t.startswith("boom") for t in texts):
            raise RuntimeError("out of memory (pretend)")
        return rows_of(texts)

    async def main():
        batcher = Batcher(predict, max_batch_size=1, max_wait_ms=0)
        batcher.start()
        results = await asyncio.gather(batcher.submit(["boom-1"]), batcher.submit(["ok-2"]), return_exceptions=True)
        after = await batcher.submit(["ok-3"])
        await batcher.stop()
        return results, after

    (failed, ok), after = run(main())
    assert isinstance(failed, BatchFailed) and "out of memory" in str(failed)
    np.testing.assert_array_equal(ok, rows_of(["ok-2"]))
    np.testing.assert_array_equal(after, rows_of(["ok-3"]))


@pytest.mark.parametrize("kwargs", [dict(max_batch_size=0, max_wait_ms=1), dict(max_batch_size=1, max_wait_ms=-1)])
def test_settings_out_of_range_are_refused(kwargs):
    with pytest.raises(ValueError):
        Batcher(rows_of, **kwargs)


def test_an_announced_request_that_never_submits_does_not_stop_the_loop():
    async def main():
        batcher = Batcher(rows_of, max_batch_size=4, max_wait_ms=50)
        batcher.start()
        with batcher.arriving():
            pass  # e.g. its body was refused
        await asyncio.sleep(0.05)
        rows = await batcher.submit(["z-4"])
        await batcher.stop()
        return rows

    np.testing.assert_array_equal(run(main()), rows_of(["z-4"]))
