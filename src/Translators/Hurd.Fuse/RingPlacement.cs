using System.Globalization;
using Hurd.Fuse.Interop;

namespace Hurd.Fuse;

/// <summary>
/// Decides, for the whole process, whether the io_uring queue threads run under SCHED_IDLE (see
/// <see cref="FuseMountOptions.IoUringIdle"/> and "Placement" in <see cref="FuseUring"/>): only while the machine has
/// idle CPU. SCHED_IDLE makes a queue thread's CPU count as idle, so an answer wakes its client where it slept instead
/// of on a halted vCPU; but a SCHED_IDLE thread runs only when nothing else wants its CPU, so on a busy machine
/// requests wait behind other work (measured with three engineers' builds running: buffered 4 KiB random reads fell
/// from 35k to 0.6-2k IOPS). A monitor thread samples the machine's idle time (/proc/stat) every 100 ms while
/// requests flow: below <see cref="LeaveIdle"/> idle CPUs the threads go back to normal priority at once; they return
/// to SCHED_IDLE after <see cref="QuietSamples"/> samples in a row with at least <see cref="EnterIdle"/> idle CPUs.
/// Without requests it samples once a second, so the first requests after a lull may run for up to a second under
/// the last decision.
/// </summary>
internal static class RingPlacement
{
    /// <summary>Idle CPUs (summed over the machine) under which the threads leave SCHED_IDLE.</summary>
    public const double LeaveIdle = 0.4;
    /// <summary>Idle CPUs from which a sample counts as quiet.</summary>
    public const double EnterIdle = 0.7;
    /// <summary>Quiet samples in a row before the threads go (back) to SCHED_IDLE.</summary>
    public const int QuietSamples = 5;
    private static readonly TimeSpan Period = TimeSpan.FromMilliseconds(100);

    private static readonly Lock Gate = new();
    private static readonly List<int> Threads = [];   // tids of the queue threads that want SCHED_IDLE
    private static Thread? _monitor;
    private static readonly List<Func<long>> Counters = []; // requests served, per FuseUring: the monitor sleeps longer when still
    private static bool _idle;                          // the policy the registered threads have now

    /// <summary>The kernel ids of the queue threads placed by this class now.</summary>
    public static int[] Registered { get { lock (Gate) return [.. Threads]; } }

    /// <summary>Called by a queue thread that wants SCHED_IDLE: it gets the current policy and follows later changes.</summary>
    public static void Register()
    {
        int tid = IoUring.CurrentThreadId();
        lock (Gate)
        {
            Threads.Add(tid);
            if (_idle) IoUring.SetSchedIdle(tid, true);
            if (_monitor is null)
            {
                _monitor = new Thread(Monitor) { IsBackground = true, Name = "fuse-placement" };
                _monitor.Start();
            }
        }
    }

    /// <summary>Called by a queue thread as it ends.</summary>
    public static void Unregister()
    {
        int tid = IoUring.CurrentThreadId();
        lock (Gate) Threads.Remove(tid);
    }

    /// <summary>Adds a count of requests served (a session's rings) to what the monitor watches for activity.</summary>
    public static void Watch(Func<long> served) { lock (Gate) Counters.Add(served); }

    /// <summary>Stops watching a count given to <see cref="Watch"/>.</summary>
    public static void Unwatch(Func<long> served) { lock (Gate) Counters.Remove(served); }

    private static long Activity()
    {
        lock (Gate)
        {
            long sum = 0;
            foreach (var c in Counters) sum += c();
            return sum;
        }
    }

    /// <summary>The decision, given the policy now, the idle CPUs of the last sample and the quiet samples before it;
    /// returns the policy to have and the new count of quiet samples.</summary>
    public static (bool Idle, int Quiet) Decide(bool idle, double idleCpus, int quiet)
    {
        if (idleCpus < LeaveIdle) return (false, 0);
        quiet = idleCpus >= EnterIdle ? quiet + 1 : 0;
        return (idle || quiet >= QuietSamples, quiet);
    }

    private static void Monitor()
    {
        int quiet = 0;
        long lastActivity = -1;
        (ulong idle, ulong total, int cpus) last = ReadStat();
        while (true)
        {
            long activity = Activity();
            // No requests since the last look: nothing to place; look again in a second (a waking monitor costs a
            // halted vCPU its sleep too).
            Thread.Sleep(activity == lastActivity ? Period * 10 : Period);
            lastActivity = activity;
            var now = ReadStat();
            if (now.total <= last.total || now.cpus == 0) { last = now; continue; }
            double idleCpus = (double)(now.idle - last.idle) / (now.total - last.total) * now.cpus;
            last = now;
            lock (Gate)
            {
                if (Threads.Count == 0) { quiet = 0; continue; }
                (bool want, quiet) = Decide(_idle, idleCpus, quiet);
                if (want == _idle) continue;
                _idle = want;
                foreach (int tid in Threads) IoUring.SetSchedIdle(tid, want);
            }
        }
    }

    /// <summary>Idle + iowait ticks, all ticks, and the CPU count, from /proc/stat's "cpu" lines.</summary>
    private static (ulong idle, ulong total, int cpus) ReadStat()
    {
        try
        {
            ulong idle = 0, total = 0;
            int cpus = 0;
            foreach (string line in File.ReadLines("/proc/stat"))
            {
                if (!line.StartsWith("cpu", StringComparison.Ordinal)) break;
                if (line.StartsWith("cpu ", StringComparison.Ordinal))
                {
                    string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    // user nice system idle iowait irq softirq steal (guest time is already in user and nice)
                    for (int i = 1; i <= 8 && i < f.Length; i++)
                    {
                        ulong v = ulong.Parse(f[i], CultureInfo.InvariantCulture);
                        total += v;
                        if (i is 4 or 5) idle += v;
                    }
                }
                else cpus++;
            }
            return (idle, total, cpus);
        }
        catch (Exception) { return (0, 0, 0); } // no /proc/stat: the threads simply stay at normal priority
    }
}
