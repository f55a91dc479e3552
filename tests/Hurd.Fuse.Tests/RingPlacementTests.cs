using Hurd.Fuse;
using Xunit;

namespace Hurd.Fuse.Tests;

/// <summary>When the io_uring queue threads run under SCHED_IDLE (<see cref="RingPlacement.Decide"/>): never on a busy
/// machine, and back only after a run of quiet samples, so that a short lull in someone else's load does not hand their
/// CPU time back to our requests' disadvantage.</summary>
public class RingPlacementTests
{
    [Fact(Timeout = 10000)]
    public async Task Decide_LeavesIdleAtOnceWhenBusy_ReturnsOnlyAfterQuietSamplesInARow()
    {
        await Task.Yield();
        // Busy: leave SCHED_IDLE at once, forget the quiet run.
        Assert.Equal((false, 0), RingPlacement.Decide(idle: true, idleCpus: 0.1, quiet: 3));
        // Quiet samples are counted; idle only once there are enough of them in a row.
        bool idle = false;
        int quiet = 0;
        for (int i = 1; i < RingPlacement.QuietSamples; i++)
        {
            (idle, quiet) = RingPlacement.Decide(idle, 1.0, quiet);
            Assert.False(idle);
            Assert.Equal(i, quiet);
        }
        (idle, quiet) = RingPlacement.Decide(idle, 1.0, quiet);
        Assert.True(idle);
        // Between the thresholds: keep what we have, but the quiet run starts over.
        Assert.Equal((true, 0), RingPlacement.Decide(true, (RingPlacement.LeaveIdle + RingPlacement.EnterIdle) / 2, quiet));
        Assert.Equal((false, 0), RingPlacement.Decide(false, (RingPlacement.LeaveIdle + RingPlacement.EnterIdle) / 2, 4));
    }
}
