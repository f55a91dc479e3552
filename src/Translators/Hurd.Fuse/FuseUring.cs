using System.Runtime.InteropServices;
using Hurd.Fuse.Abi;
using Hurd.Fuse.Interop;
using Hurd.Ipc.Abi;

namespace Hurd.Fuse;

/// <summary>
/// FUSE over io_uring (Linux 6.14+): requests reach the daemon through one queue per CPU instead of read(2) on
/// /dev/fuse, and each queue is served by a thread bound to that CPU. A client's request goes to the queue of the CPU
/// it runs on, so the daemon's answer is computed on the client's own CPU: no wake-up of another CPU, which on these
/// 2-vCPU VMs (an idle vCPU halts) costs tens of µs per request and dominates a FUSE round trip.
/// </summary>
/// <remarks>
/// <para><b>Protocol</b> (fs/fuse/dev_uring.c). After INIT, each queue thread registers entries on its queue
/// (IORING_OP_URING_CMD, FUSE_IO_URING_CMD_REGISTER, the queue id in the 80-byte command area of a 128-byte submission
/// entry, an iovec pair: a 288-byte header buffer and a payload buffer of at least max_write). Once every possible CPU
/// has a queue with an entry, the kernel switches the connection to the rings. A completion means the entry holds a
/// request: <c>fuse_in_header</c> in the header's first 128 bytes, the operation's own header (<c>fuse_read_in</c> and
/// the like) in the next 128, then <c>fuse_uring_ent_in_out</c> (commit id, payload size); names and data in the
/// payload. The answer goes back the same way (<c>fuse_out_header</c> in the first 128 bytes, the reply's arguments in
/// the payload, their size in <c>ent_in_out.payload_sz</c>) with FUSE_IO_URING_CMD_COMMIT_AND_FETCH, which also
/// re-arms the entry. FORGET, INTERRUPT and notifications stay on /dev/fuse, so the session's readers keep running.</para>
/// <para><b>Reuse of the dispatcher.</b> The request is put back together in front of the payload (the payload buffer
/// has a page of headroom), so <see cref="FuseDispatcher.Dispatch"/> sees the same bytes read(2) would have given it,
/// and the payload (a WRITE's data) is not copied. The operation header's size is what fuse_in_header.len leaves
/// after the header and the payload. A request without payload (READ, GETATTR...) is answered in place: the reply's
/// arguments land in the payload buffer (a READ's data is not copied either); other replies are small and copied.</para>
/// <para><b>Blocking.</b> Each queue has two threads of one entry each: while a handler blocks, the other thread takes
/// that CPU's requests; two blocked at once hold up the requests of clients on that CPU (not the others). Translators
/// whose handlers wait on other servers keep the default, read(2) on several reader threads.</para>
/// <para><b>Placement.</b> Binding a queue's threads to its CPU is half of it: when the thread answers, it is still
/// running, so the scheduler wakes the client on an idle CPU, which on a VM is a halted vCPU (25-40 µs to wake here),
/// and the client's next request goes to that CPU's queue: every round trip paid a halted-vCPU wake-up. Under
/// SCHED_IDLE (<see cref="FuseMountOptions.IoUringIdle"/>, the default) the answering thread's CPU counts as idle,
/// so the client is woken where it slept, and preempts the thread, which was about to wait anyway. Measured on a
/// quiet machine: O_DIRECT 4 KiB reads 27k -> 56k IOPS, an untar of 4,500 files 1.9 -> 1.0 s, mkdir -p of 1,110
/// directories 0.24 -> 0.15 s. But a SCHED_IDLE thread runs only when nothing else wants its CPU, and on a busy
/// machine requests then wait behind other work (buffered 4 KiB random reads fell from 35k to 0.6-2k IOPS during
/// three engineers' builds), so <see cref="RingPlacement"/> keeps the threads under SCHED_IDLE only while the machine
/// has idle CPU.</para>
/// <para>Needs the fuse module's <c>enable_uring</c> parameter (<see cref="KernelAllows"/>); without it, or if any
/// step fails, the connection simply stays on /dev/fuse.</para>
/// </remarks>
internal sealed unsafe class FuseUring
{
    private const int HeaderBytes = 4096;       // fuse_uring_req_header is 288 bytes; a page, as the kernel pins it
    private const int OpInOffset = 128, EntInOutOffset = 256;
    private const int Headroom = 4096;           // room in front of the payload to rebuild the request contiguously
    private const uint CmdRegister = 1, CmdCommitAndFetch = 2;
    // Threads per queue, one entry each. The kernel gives a queue's next request to the entry made available last, so
    // a sequential client keeps meeting the same warm thread; a thread whose handler blocks has no entry available,
    // so the next request of that CPU goes to the queue's other thread instead of waiting behind it (a passive
    // translator starting in a LOOKUP takes a second).
    private const int ThreadsPerQueue = 2;

    private readonly FuseDispatcher _dispatcher;
    private readonly int _fd;
    private readonly uint _payloadBytes;
    private readonly Func<bool> _stopping;
    private readonly bool _schedIdle;
    private Func<long>? _activity; // Served, as watched by RingPlacement
    private readonly List<Thread> _threads = [];
    // Requests answered, one counter per thread (each written by its thread only: no shared cache line per request),
    // 8 longs apart.
    private long[] _served = [];

    /// <summary>Requests answered through the rings so far.</summary>
    public long Served
    {
        get
        {
            long sum = 0;
            for (int i = 0; i < _served.Length; i += 8) sum += Volatile.Read(ref _served[i]);
            return sum;
        }
    }

    /// <summary>True when the fuse module lets connections use io_uring (parameter enable_uring).</summary>
    public static bool KernelAllows
    {
        get
        {
            try { return File.ReadAllText("/sys/module/fuse/parameters/enable_uring").Trim() is "Y" or "1"; }
            catch (IOException) { return false; }
            catch (UnauthorizedAccessException) { return false; }
        }
    }

    /// <summary>The CPUs the kernel makes queues for (num_possible_cpus).</summary>
    public static int PossibleCpus()
    {
        try
        {
            string s = File.ReadAllText("/sys/devices/system/cpu/possible").Trim();
            int last = 0;
            foreach (string part in s.Split(','))
            {
                string hi = part.Contains('-') ? part.Split('-')[1] : part;
                last = Math.Max(last, int.Parse(hi, System.Globalization.CultureInfo.InvariantCulture));
            }
            return last + 1;
        }
        catch (Exception) { return Environment.ProcessorCount; }
    }

    public FuseUring(FuseDispatcher dispatcher, int fd, uint payloadBytes, bool schedIdle, Func<bool> stopping)
    {
        _schedIdle = schedIdle;
        _dispatcher = dispatcher;
        _fd = fd;
        // The kernel wants at least max(8 KiB, max_write, max_pages pages) of payload per entry.
        _payloadBytes = Math.Max(payloadBytes, (uint)FuseKernel.MinReadBuffer);
        _stopping = stopping;
    }

    /// <summary>Starts two threads per possible CPU, bound to it; each registers its entry on that CPU's queue once INIT
    /// has been answered.</summary>
    public void Start()
    {
        int n = PossibleCpus();
        _served = new long[n * ThreadsPerQueue * 8];
        if (_schedIdle) RingPlacement.Watch(_activity = () => Served);
        for (int q = 0; q < n * ThreadsPerQueue; q++)
        {
            int qid = q % n, counter = q * 8;
            // A failure here must not take the daemon down: the connection then stays on /dev/fuse (or, once
            // switched, loses this CPU's queue until unmount).
            var t = new Thread(() => { try { QueueLoop(qid, ref _served[counter]); } catch (Exception) { } }) { IsBackground = true, Name = $"fuse-ring-{qid}.{q / n}" };
            _threads.Add(t);
            t.Start();
        }
    }

    /// <summary>Waits for the queue threads (they end when the connection goes: unmount or abort).</summary>
    public bool Join(TimeSpan timeout)
    {
        var end = DateTime.UtcNow + timeout;
        if (_activity is not null) RingPlacement.Unwatch(_activity);
        foreach (Thread t in _threads)
        {
            var left = end - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || !t.Join(left)) return false;
        }
        return true;
    }

    private struct Entry
    {
        public byte* Header;
        public byte* Payload;      // Headroom bytes of our own in front of it
        public nint* Iov;          // iovec[2]: header, payload
        public uint LastCmd;
        public ulong CommitId;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private void QueueLoop(int qid, ref long served)
    {
        IoUring.PinToCpu(qid);
        if (IoUring.Create(2, out IoUring? ring) != 0) return;
        var e = new Entry();
        byte* reply = (byte*)NativeMemory.AlignedAlloc(_payloadBytes + Headroom, 4096);
        uint replyBytes = _payloadBytes + Headroom;
        FuseRequestSlot slot = _dispatcher.CreateSlot();
        try
        {
            if (_schedIdle) RingPlacement.Register(); // undone in finally, whatever happens below
            e.Header = (byte*)NativeMemory.AlignedAlloc(HeaderBytes, 4096);
            new Span<byte>(e.Header, HeaderBytes).Clear();
            e.Payload = (byte*)NativeMemory.AlignedAlloc(_payloadBytes + Headroom, 4096) + Headroom;
            e.Iov = (nint*)NativeMemory.Alloc(32);
            e.Iov[0] = (nint)e.Header; e.Iov[1] = HeaderBytes;
            e.Iov[2] = (nint)e.Payload; e.Iov[3] = (nint)_payloadBytes;
            // Registration needs the kernel to have taken INIT's answer (EAGAIN before).
            while (!_dispatcher.Initialized)
            {
                if (_stopping()) return;
                Thread.Sleep(1);
            }
            if ((_dispatcher.Connection.Flags & InitFlags.OverIoUring) == 0) return; // the kernel did not agree
            Prepare(ring!, ref e, qid, CmdRegister);
            while (!_stopping())
            {
                int r = ring!.Enter(wait: true);
                if (r < 0 && r != -(int)Errno.EINTR && r != -(int)Errno.EBUSY) break;
                if (!ring.TryTake(out IoUring.Cqe cqe)) continue;
                if (cqe.Res == -(int)Errno.EAGAIN || cqe.Res == -(int)Errno.EINTR)
                {
                    if (e.LastCmd == CmdRegister) Thread.Sleep(1);
                    Prepare(ring, ref e, qid, e.LastCmd);
                    continue;
                }
                if (cqe.Res < 0) break; // ENOTCONN: unmounted; anything else: leave the queue
                Serve(ref e, reply, replyBytes, slot);
                Volatile.Write(ref served, served + 1);
                Prepare(ring, ref e, qid, CmdCommitAndFetch);
            }
        }
        finally
        {
            if (_schedIdle) RingPlacement.Unregister();
            ring!.Dispose(); // cancels what is still registered
            if (e.Header is not null) NativeMemory.AlignedFree(e.Header);
            if (e.Payload is not null) NativeMemory.AlignedFree(e.Payload - Headroom);
            if (e.Iov is not null) NativeMemory.Free(e.Iov);
            NativeMemory.AlignedFree(reply);
        }
    }

    private void Prepare(IoUring ring, ref Entry e, int qid, uint cmd)
    {
        byte* sqe = ring.NextSqe();
        if (sqe is null) return; // cannot happen: one entry, one submission at a time, two slots
        sqe[0] = IoUring.OpUringCmd;
        *(int*)(sqe + 4) = _fd;
        *(uint*)(sqe + 8) = cmd;                         // cmd_op
        if (cmd == CmdRegister)
        {
            *(ulong*)(sqe + 16) = (ulong)e.Iov;          // addr: the iovec pair
            *(uint*)(sqe + 24) = 2;                      // len: two iovecs
        }
        // struct fuse_uring_cmd_req at cmd[0] (offset 48): flags, commit_id, qid
        *(ulong*)(sqe + 56) = cmd == CmdCommitAndFetch ? e.CommitId : 0;
        *(ushort*)(sqe + 64) = (ushort)qid;
        e.LastCmd = cmd;
    }

    /// <summary>Rebuilds the request in front of the payload, dispatches it, and lays the answer out for the commit.</summary>
    private void Serve(ref Entry e, byte* reply, uint replyBytes, FuseRequestSlot slot)
    {
        byte* h = e.Header;
        var inHeader = *(FuseInHeader*)h;
        e.CommitId = *(ulong*)(h + EntInOutOffset + 8);
        uint payload = *(uint*)(h + EntInOutOffset + 16);
        long opBytes = (long)inHeader.Len - FuseDispatcher.InHeaderSize - payload;
        int len;
        byte* answer;
        if (opBytes < 0 || opBytes > 128 || payload > _payloadBytes)
        {
            answer = reply;
            len = FuseDispatcher.Error(new Span<byte>(reply, (int)replyBytes), inHeader.Unique, Errno.EIO);
        }
        else
        {
            byte* request = e.Payload - FuseDispatcher.InHeaderSize - opBytes;
            Buffer.MemoryCopy(h, request, FuseDispatcher.InHeaderSize, FuseDispatcher.InHeaderSize);
            Buffer.MemoryCopy(h + OpInOffset, request + FuseDispatcher.InHeaderSize, opBytes, opBytes);
            var req = new ReadOnlySpan<byte>(request, (int)inHeader.Len);
            // Without payload the request ends where the payload begins and was read into locals before any handler
            // writes: the answer can go in place, its arguments straight into the payload buffer.
            answer = payload == 0 ? e.Payload - FuseDispatcher.OutHeaderSize : reply;
            uint room = payload == 0 ? _payloadBytes + FuseDispatcher.OutHeaderSize : replyBytes;
            try { len = _dispatcher.Dispatch(req, new Span<byte>(answer, (int)room), slot); }
            catch (Exception) { len = 0; }
            if (len < FuseDispatcher.OutHeaderSize)
            {
                answer = reply;
                len = FuseDispatcher.Error(new Span<byte>(reply, (int)replyBytes), inHeader.Unique, Errno.EIO);
            }
        }
        // fuse_out_header into in_out; the arguments into the payload (unless already there); their size.
        Buffer.MemoryCopy(answer, h, FuseDispatcher.OutHeaderSize, FuseDispatcher.OutHeaderSize);
        uint args = (uint)(len - FuseDispatcher.OutHeaderSize);
        if (answer != e.Payload - FuseDispatcher.OutHeaderSize && args > 0)
            Buffer.MemoryCopy(answer + FuseDispatcher.OutHeaderSize, e.Payload, _payloadBytes, Math.Min(args, _payloadBytes));
        *(uint*)(h + EntInOutOffset + 16) = Math.Min(args, _payloadBytes);
    }
}
