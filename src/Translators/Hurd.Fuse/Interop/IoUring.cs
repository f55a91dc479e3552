using System.Runtime.InteropServices;

namespace Hurd.Fuse.Interop;

/// <summary>
/// The smallest io_uring a FUSE queue needs, on raw system calls (no liburing): one submission ring of 128-byte
/// entries (IORING_SETUP_SQE128, as FUSE's uring commands carry their arguments in the entry), one completion ring,
/// submissions and completions from the one thread that owns it.
/// </summary>
/// <remarks>Layouts are those of include/uapi/linux/io_uring.h (x86-64).</remarks>
internal sealed unsafe partial class IoUring : IDisposable
{
    private const long SysSetup = 425, SysEnter = 426;
    private const uint SetupCqSize = 1u << 3, SetupSqe128 = 1u << 10, SetupSingleIssuer = 1u << 12, SetupDeferTaskrun = 1u << 13;
    private const uint FeatSingleMmap = 1;
    private const long OffSqRing = 0, OffCqRing = 0x8000000, OffSqes = 0x10000000;
    private const int ProtRw = 3, MapShared = 1, MapPopulate = 0x8000;
    public const uint EnterGetEvents = 1;
    public const byte OpUringCmd = 46;
    public const int SqeSize = 128;

    [StructLayout(LayoutKind.Sequential)]
    private struct SqOffsets { public uint Head, Tail, RingMask, RingEntries, Flags, Dropped, Array, Resv1; public ulong UserAddr; }

    [StructLayout(LayoutKind.Sequential)]
    private struct CqOffsets { public uint Head, Tail, RingMask, RingEntries, Overflow, Cqes, Flags, Resv1; public ulong UserAddr; }

    [StructLayout(LayoutKind.Sequential)]
    private struct Params
    {
        public uint SqEntries, CqEntries, Flags, SqThreadCpu, SqThreadIdle, Features, WqFd, Resv0, Resv1, Resv2;
        public SqOffsets Sq;
        public CqOffsets Cq;
    }

    /// <summary>A completion: the submission's user data, its result (negative errno) and flags.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Cqe { public ulong UserData; public int Res; public uint Flags; }

    private readonly int _fd;
    private readonly byte* _sqRing, _cqRing, _sqes;
    private readonly bool _singleMmap;
    private readonly nuint _sqRingSize, _cqRingSize, _sqesSize;
    private readonly uint* _sqHead, _sqTail, _sqArray, _cqHead, _cqTail;
    private readonly uint _sqMask, _sqEntries, _cqMask;
    private readonly Cqe* _cqes;
    private uint _sqLocalTail;

    private IoUring(int fd, in Params p, byte* sqRing, nuint sqSize, byte* cqRing, nuint cqSize, byte* sqes, nuint sqesSize)
    {
        _fd = fd;
        _singleMmap = cqRing == sqRing;
        _sqRing = sqRing; _sqRingSize = sqSize; _cqRing = cqRing; _cqRingSize = cqSize; _sqes = sqes; _sqesSize = sqesSize;
        _sqHead = (uint*)(sqRing + p.Sq.Head); _sqTail = (uint*)(sqRing + p.Sq.Tail); _sqArray = (uint*)(sqRing + p.Sq.Array);
        _sqMask = *(uint*)(sqRing + p.Sq.RingMask); _sqEntries = *(uint*)(sqRing + p.Sq.RingEntries);
        _cqHead = (uint*)(cqRing + p.Cq.Head); _cqTail = (uint*)(cqRing + p.Cq.Tail);
        _cqMask = *(uint*)(cqRing + p.Cq.RingMask);
        _cqes = (Cqe*)(cqRing + p.Cq.Cqes);
        _sqLocalTail = Volatile.Read(ref *_sqTail);
    }

    /// <summary>Sets up a ring of <paramref name="entries"/> submissions and twice as many completions; errno on failure.</summary>
    public static int Create(uint entries, out IoUring? ring)
    {
        ring = null;
        // Single issuer with deferred task work (Linux 6.1+): the kernel hands a request to our entry as task work, and
        // deferred, it runs when this thread waits in io_uring_enter (where it always is when idle) instead of
        // interrupting the thread through TIF_NOTIFY_SIGNAL: 3-5 % off a round trip here. Older kernels: without.
        var p = new Params { Flags = SetupSqe128 | SetupCqSize | SetupSingleIssuer | SetupDeferTaskrun, CqEntries = entries * 2 };
        int fd = (int)syscall(SysSetup, entries, (long)&p, 0, 0, 0, 0);
        if (fd < 0)
        {
            p = new Params { Flags = SetupSqe128 | SetupCqSize, CqEntries = entries * 2 };
            fd = (int)syscall(SysSetup, entries, (long)&p, 0, 0, 0, 0);
        }
        if (fd < 0) return Marshal.GetLastPInvokeError();
        nuint sqSize = p.Sq.Array + p.SqEntries * 4u, cqSize = p.Cq.Cqes + p.CqEntries * (uint)sizeof(Cqe);
        bool single = (p.Features & FeatSingleMmap) != 0;
        if (single) sqSize = cqSize = Math.Max(sqSize, cqSize);
        byte* sq = mmap(null, sqSize, ProtRw, MapShared | MapPopulate, fd, OffSqRing);
        byte* cq = single ? sq : mmap(null, cqSize, ProtRw, MapShared | MapPopulate, fd, OffCqRing);
        nuint sqesSize = p.SqEntries * (nuint)SqeSize;
        byte* sqes = mmap(null, sqesSize, ProtRw, MapShared | MapPopulate, fd, OffSqes);
        if (sq == (byte*)-1 || cq == (byte*)-1 || sqes == (byte*)-1)
        {
            int e = Marshal.GetLastPInvokeError();
            if (sq != (byte*)-1) munmap(sq, sqSize);
            if (!single && cq != (byte*)-1) munmap(cq, cqSize);
            if (sqes != (byte*)-1) munmap(sqes, sqesSize);
            FuseLibc.close(fd);
            return e;
        }
        ring = new IoUring(fd, in p, sq, sqSize, cq, cqSize, sqes, sqesSize);
        return 0;
    }

    /// <summary>The next free submission entry, zeroed, or null when the ring is full. It is queued at once; it goes to
    /// the kernel at the next <see cref="Enter"/>.</summary>
    public byte* NextSqe()
    {
        uint head = Volatile.Read(ref *_sqHead);
        if (_sqLocalTail - head >= _sqEntries) return null;
        uint idx = _sqLocalTail & _sqMask;
        byte* sqe = _sqes + idx * (uint)SqeSize;
        new Span<byte>(sqe, SqeSize).Clear();
        _sqArray[idx] = idx;
        _sqLocalTail++;
        return sqe;
    }

    /// <summary>Publishes the queued entries and submits them; with <paramref name="wait"/>, also waits for at least one
    /// completion. Returns the count submitted, or -errno.</summary>
    public int Enter(bool wait)
    {
        uint pending = _sqLocalTail - Volatile.Read(ref *_sqTail);
        Volatile.Write(ref *_sqTail, _sqLocalTail);
        long r = syscall(SysEnter, _fd, pending, wait ? 1 : 0, wait ? EnterGetEvents : 0, 0, 0);
        return r < 0 ? -Marshal.GetLastPInvokeError() : (int)r;
    }

    /// <summary>Takes the next completion, if any.</summary>
    public bool TryTake(out Cqe cqe)
    {
        uint head = *_cqHead;
        if (head == Volatile.Read(ref *_cqTail)) { cqe = default; return false; }
        cqe = _cqes[head & _cqMask];
        Volatile.Write(ref *_cqHead, head + 1);
        return true;
    }

    public void Dispose()
    {
        munmap(_sqes, _sqesSize);
        munmap(_sqRing, _sqRingSize);
        if (!_singleMmap) munmap(_cqRing, _cqRingSize);
        FuseLibc.close(_fd);
    }

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long syscall(long number, long a1, long a2, long a3, long a4, long a5, long a6);

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial byte* mmap(void* addr, nuint length, int prot, int flags, int fd, long offset);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    private static partial int munmap(void* addr, nuint length);

    /// <summary>Binds the calling thread to one CPU (sched_setaffinity of thread 0 = the caller).</summary>
    public static bool PinToCpu(int cpu)
    {
        Span<ulong> mask = stackalloc ulong[16];
        mask.Clear();
        if (cpu < 0 || cpu >= 1024) return false;
        mask[cpu / 64] = 1UL << (cpu % 64);
        fixed (ulong* m = mask) return sched_setaffinity(0, (nuint)(mask.Length * 8), m) == 0;
    }

    /// <summary>Puts thread <paramref name="tid"/> of this process under SCHED_IDLE (sched(7): it runs only when its CPU
    /// has nothing else to run, and the CPU counts as idle when the kernel chooses where to wake a task), or back under
    /// SCHED_OTHER. Best effort: a refusal only costs the placement.</summary>
    public static bool SetSchedIdle(int tid, bool idle)
    {
        int param = 0; // sched_priority: 0 for both policies
        return sched_setscheduler(tid, idle ? SchedIdle : SchedOther, &param) == 0;
    }

    /// <summary>The calling thread's kernel id (gettid).</summary>
    public static int CurrentThreadId() => gettid();

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int gettid();

    private const int SchedOther = 0;
    private const int SchedIdle = 5;

    [LibraryImport("libc", EntryPoint = "sched_setscheduler", SetLastError = true)]
    private static partial int sched_setscheduler(int pid, int policy, int* param);

    [LibraryImport("libc", EntryPoint = "sched_setaffinity", SetLastError = true)]
    private static partial int sched_setaffinity(int pid, nuint size, ulong* mask);
}
