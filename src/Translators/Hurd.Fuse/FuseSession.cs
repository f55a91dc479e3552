using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Hurd.Fuse.Abi;
using Hurd.Fuse.Interop;
using Hurd.Ipc.Abi;

namespace Hurd.Fuse;

/// <summary>A mount could not be made (the errno and what was tried).</summary>
public sealed class FuseMountException(Errno errno, string message) : IOException(message)
{
    /// <summary>Why.</summary>
    public Errno Errno { get; } = errno;
}

/// <summary>
/// A mounted FUSE filesystem: the /dev/fuse connection, its reader threads and its notification thread.
/// </summary>
/// <remarks>
/// <para><b>Readers.</b> <see cref="FuseMountOptions.Readers"/> dedicated threads (not the thread pool, which
/// an in-process client could starve), each reading from its own descriptor (the first from the mount's,
/// the others cloned with FUSE_DEV_IOC_CLONE so each has its own processing queue) into one pinned, page-aligned
/// buffer of max_write + 4 KiB for the request and the same again for the reply, and replying with write(2) on
/// the descriptor the request came from. A reply write failing with ENOENT means the request was interrupted:
/// the dispatcher undoes lookup counts and handles (<see cref="FuseDispatcher.Undeliver"/>). EINTR and EAGAIN
/// are retried; ENODEV (unmounted) and ECONNABORTED (aborted) end the reader.</para>
/// <para><b>Unmount.</b> <see cref="Dispose"/> unmounts (umount2; lazily with MNT_DETACH when busy; through
/// <c>fusermount3 -u -z</c> when not root), which makes every reader's read return ENODEV, joins them, calls
/// <see cref="FuseFileSystem.Destroy"/> and closes the descriptors. Unmount always comes before close:
/// closing first is a crash, after which users get ENOTCONN until someone unmounts.</para>
/// <para><b>Notifications</b> (<see cref="NotifyInvalInode"/>, <see cref="NotifyInvalEntry"/>,
/// <see cref="NotifyDelete"/>) are queued and written by a dedicated thread, so a handler may ask for one
/// without deadlocking on the directory lock the kernel holds during the handler's request. Never wait for
/// the returned task inside a handler.</para>
/// </remarks>
public sealed class FuseSession : IDisposable
{
    private readonly FuseMountOptions _options;
    private readonly List<Thread> _readers = [];
    private readonly List<int> _fds = [];
    private readonly BlockingCollection<(byte[] Message, TaskCompletionSource<Errno> Done)> _notifications = new(1024);
    private Thread? _notifier;
    private int _notifyFd = -1;
    private FuseUring? _uring;
    private int _readAheadDone;
    private readonly bool _viaFusermount;
    private int _unmounted;
    private int _disposed;
    private int _running;
    private readonly ManualResetEventSlim _ended = new(false);

    private FuseSession(FuseFileSystem fs, FuseMountOptions options, bool viaFusermount)
    {
        _options = options;
        _viaFusermount = viaFusermount;
        if (options.IoUring && IoUringAvailable) options.Connection.Want |= InitFlags.OverIoUring;
        Dispatcher = new FuseDispatcher(fs, options.Connection);
        MountPoint = Path.GetFullPath(options.MountPoint);
        fs.Session = this;
    }

    /// <summary>The mount point (absolute).</summary>
    public string MountPoint { get; }
    /// <summary>The dispatcher (its <see cref="FuseDispatcher.Connection"/> holds the INIT results).</summary>
    public FuseDispatcher Dispatcher { get; }
    /// <summary>The filesystem type as /proc/mounts shows it.</summary>
    public string FsType => "fuse." + _options.Subtype;
    /// <summary>True while at least one reader runs (the connection is alive).</summary>
    public bool IsRunning => Volatile.Read(ref _running) > 0;

    /// <summary>
    /// Mounts <paramref name="fs"/> at <see cref="FuseMountOptions.MountPoint"/> and starts serving. Returns once
    /// the mount exists; the first access waits until the readers have answered INIT.
    /// </summary>
    /// <exception cref="FuseMountException">/dev/fuse could not be opened or the mount failed.</exception>
    public static FuseSession Mount(FuseFileSystem fs, FuseMountOptions options)
    {
        bool root = FuseLibc.geteuid() == 0;
        bool viaFusermount = options.UseFusermount ?? !root;
        var s = new FuseSession(fs, options, viaFusermount);
        int fd = viaFusermount ? s.MountWithFusermount() : s.MountDirect();
        s._fds.Add(fd);
        try { s.Start(fd); }
        catch { s.Dispose(); throw; }
        return s;
    }

    private int MountDirect()
    {
        if (!Directory.Exists(MountPoint) && !File.Exists(MountPoint))
            throw new FuseMountException(Errno.ENOENT, $"{MountPoint}: No such file or directory");
        int fd = FuseLibc.open("/dev/fuse", FuseLibc.O_RDWR | FuseLibc.O_CLOEXEC);
        if (fd < 0)
        {
            var e = (Errno)FuseLibc.Errno;
            throw new FuseMountException(e, $"/dev/fuse: {e.Message()}");
        }
        string rootmode = Directory.Exists(MountPoint) ? "40000" : "100000";
        string data = string.Create(CultureInfo.InvariantCulture,
            $"fd={fd},rootmode={rootmode},user_id={FuseLibc.geteuid()},group_id={FuseLibc.getegid()}");
        if (_options.AllowOther) data += ",allow_other";
        if (_options.DefaultPermissions) data += ",default_permissions";
        if (_options.MaxRead != 0) data += ",max_read=" + _options.MaxRead.ToString(CultureInfo.InvariantCulture);
        string source = _options.FsName ?? _options.Subtype;
        if (FuseLibc.mount(source, MountPoint, FsType, (nuint)_options.MountFlags, data) != 0)
        {
            var e = (Errno)FuseLibc.Errno;
            FuseLibc.close(fd);
            throw new FuseMountException(e, $"mount {MountPoint}: {e.Message()}");
        }
        return fd;
    }

    private unsafe int MountWithFusermount()
    {
        int* sv = stackalloc int[2];
        if (FuseLibc.socketpair(FuseLibc.AF_UNIX, FuseLibc.SOCK_STREAM, 0, sv) != 0)
        {
            var e = (Errno)FuseLibc.Errno;
            throw new FuseMountException(e, $"socketpair: {e.Message()}");
        }
        FuseLibc.fcntl(sv[0], FuseLibc.F_SETFD, FuseLibc.FD_CLOEXEC);
        var psi = new ProcessStartInfo("fusermount3") { RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-o");
        psi.ArgumentList.Add(_options.FusermountOptions());
        psi.ArgumentList.Add("--");
        psi.ArgumentList.Add(MountPoint);
        psi.Environment["_FUSE_COMMFD"] = sv[1].ToString(CultureInfo.InvariantCulture);
        Process p;
        try { p = Process.Start(psi)!; }
        catch (Exception ex)
        {
            FuseLibc.close(sv[0]); FuseLibc.close(sv[1]);
            throw new FuseMountException(Errno.ENOENT, "fusermount3: " + ex.Message);
        }
        FuseLibc.close(sv[1]);
        int fd = -1;
        byte dummy;
        var iov = new FuseLibc.IoVec { Base = &dummy, Len = 1 };
        byte* control = stackalloc byte[64];
        var msg = new FuseLibc.MsgHdr { Iov = &iov, IovLen = 1, Control = control, ControlLen = 64 };
        nint n;
        do n = FuseLibc.recvmsg(sv[0], &msg, 0); while (n < 0 && FuseLibc.Errno == (int)Errno.EINTR);
        if (n > 0 && msg.ControlLen >= (nuint)sizeof(FuseLibc.CmsgHdr) + 4)
        {
            var c = (FuseLibc.CmsgHdr*)control;
            if (c->Level == FuseLibc.SOL_SOCKET && c->Type == FuseLibc.SCM_RIGHTS) fd = *(int*)(control + sizeof(FuseLibc.CmsgHdr));
        }
        FuseLibc.close(sv[0]);
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (fd < 0)
        {
            // fusermount3 opens /dev/fuse as the calling user: a machine without udev's rule (0666) leaves it 0600.
            string hint = err.Contains("/dev/fuse: Permission denied", StringComparison.Ordinal)
                ? " (/dev/fuse must be readable and writable by every user, mode 0666 as udev makes it, for users to mount FUSE)" : "";
            throw new FuseMountException(Errno.EIO, $"fusermount3 did not mount {MountPoint}: {err.Trim()}{hint}");
        }
        FuseLibc.fcntl(fd, FuseLibc.F_SETFD, FuseLibc.FD_CLOEXEC);
        return fd;
    }

    private unsafe void Start(int masterFd)
    {
        int readers = _options.SingleThreaded ? 1 : Math.Max(1, _options.Readers);
        var fds = new List<int> { masterFd };
        for (int i = 1; i < readers; i++)
        {
            int c = Clone(masterFd);
            if (c < 0) break; // fewer readers, still correct
            fds.Add(c);
            _fds.Add(c);
        }
        _notifyFd = Clone(masterFd);
        if (_notifyFd >= 0) _fds.Add(_notifyFd); else _notifyFd = masterFd;
        uint bufferSize = Math.Max(Dispatcher.Connection.MaxWrite, (uint)FuseKernel.MinReadBuffer) + 4096;
        _running = fds.Count;
        for (int i = 0; i < fds.Count; i++)
        {
            int fd = fds[i];
            var t = new Thread(() => ReaderLoop(fd, bufferSize)) { IsBackground = true, Name = $"fuse-reader-{i}" };
            _readers.Add(t);
        }
        foreach (Thread t in _readers) t.Start();
        _notifier = new Thread(NotifierLoop) { IsBackground = true, Name = "fuse-notify" };
        _notifier.Start();
        if (_options.IoUring && IoUringAvailable)
        {
            _uring = new FuseUring(Dispatcher, masterFd, bufferSize, _options.IoUringIdle, () => Volatile.Read(ref _disposed) != 0 || Volatile.Read(ref _running) == 0);
            _uring.Start();
        }
    }

    private static unsafe int Clone(int masterFd)
    {
        int fd = FuseLibc.open("/dev/fuse", FuseLibc.O_RDWR | FuseLibc.O_CLOEXEC);
        if (fd < 0) return -1;
        int src = masterFd;
        if (FuseLibc.ioctl(fd, FuseKernel.DevIocClone, &src) != 0) { FuseLibc.close(fd); return -1; }
        return fd;
    }

    // Entered once and runs for the session's life: compile it fully optimised at once rather than through OSR.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private unsafe void ReaderLoop(int fd, uint bufferSize)
    {
        byte* mem = (byte*)NativeMemory.AlignedAlloc(bufferSize * 2, 4096);
        byte* req = mem, rep = mem + bufferSize;
        FuseRequestSlot slot = Dispatcher.CreateSlot();
        try
        {
            while (true)
            {
                nint n = FuseLibc.read(fd, req, bufferSize);
                if (n < 0)
                {
                    int e = FuseLibc.Errno;
                    if (e == (int)Errno.EINTR || e == (int)Errno.EAGAIN || e == (int)Errno.ENOENT) continue;
                    break; // ENODEV: unmounted; ECONNABORTED: aborted; anything else: give up on this descriptor
                }
                if (n == 0) break;
                var request = new ReadOnlySpan<byte>(req, (int)n);
                int len;
                try { len = Dispatcher.Dispatch(request, new Span<byte>(rep, (int)bufferSize), slot); }
                catch (Exception)
                {
                    // A bug in this layer must not take the daemon down: answer EIO if there is a unique to answer.
                    len = n >= 16 ? FuseDispatcher.Error(new Span<byte>(rep, (int)bufferSize), MemoryMarshal.Read<ulong>(request.Slice(8)), Errno.EIO) : 0;
                }
                if (len == 0) continue;
                while (true)
                {
                    nint w = FuseLibc.write(fd, rep, (nuint)len);
                    if (w >= 0)
                    {
                        // INIT's answer is in: the kernel has set the mount's readahead; now it may be raised.
                        if (_readAheadDone == 0 && Dispatcher.Initialized) ApplyReadAhead();
                        break;
                    }
                    int e = FuseLibc.Errno;
                    if (e == (int)Errno.EINTR || e == (int)Errno.EAGAIN) continue;
                    if (e == (int)Errno.ENOENT) Dispatcher.Undeliver(request, new ReadOnlySpan<byte>(rep, len));
                    break; // ENODEV shows up on the next read
                }
            }
        }
        finally
        {
            NativeMemory.AlignedFree(mem);
            if (Interlocked.Decrement(ref _running) == 0)
            {
                Dispatcher.Destroy();
                _ended.Set();
            }
        }
    }

    private unsafe void NotifierLoop()
    {
        foreach (var (message, done) in _notifications.GetConsumingEnumerable())
        {
            Errno result;
            fixed (byte* p = message)
            {
                nint w;
                do w = FuseLibc.write(_notifyFd, p, (nuint)message.Length);
                while (w < 0 && FuseLibc.Errno == (int)Errno.EINTR);
                result = w < 0 ? (Errno)FuseLibc.Errno : Errno.OK;
            }
            done.TrySetResult(result);
        }
    }

    private Task<Errno> Queue(byte[] message, bool waitForRoom = false)
    {
        var done = new TaskCompletionSource<Errno>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!IsRunning || _notifications.IsAddingCompleted) { done.SetResult(Errno.ENOTCONN); return done.Task; }
        try
        {
            if (waitForRoom) _notifications.Add((message, done));
            else if (!_notifications.TryAdd((message, done))) done.SetResult(Errno.EAGAIN);
        }
        catch (InvalidOperationException) { done.TrySetResult(Errno.ENOTCONN); }
        return done.Task;
    }

    /// <summary>Queues INVAL_INODE (see <see cref="FuseNotify.InvalInode"/>). The task ends with the kernel's answer (ENOENT: not cached). Never wait for it in a handler.</summary>
    public Task<Errno> NotifyInvalInode(ulong nodeId, long offset = -1, long length = 0) => Queue(FuseNotify.InvalInode(nodeId, offset, length));

    /// <summary>Queues INVAL_ENTRY for <paramref name="name"/> in <paramref name="parent"/>. Never wait for it in a handler.
    /// The queue holds 1,024 notifications: when full, the task ends with EAGAIN at once, or with
    /// <paramref name="waitForRoom"/> the call blocks until there is room, which a handler must never ask for (the
    /// notifications ahead may wait for the lock its own request holds).</summary>
    public Task<Errno> NotifyInvalEntry(ulong parent, ReadOnlySpan<byte> name, bool expireOnly = false, bool waitForRoom = false) =>
        Queue(FuseNotify.InvalEntry(parent, name, expireOnly), waitForRoom);

    /// <summary>Queues DELETE for <paramref name="name"/> (node <paramref name="child"/>) in <paramref name="parent"/>. Never wait for it in a handler.</summary>
    public Task<Errno> NotifyDelete(ulong parent, ulong child, ReadOnlySpan<byte> name) => Queue(FuseNotify.Delete(parent, child, name));

    /// <summary>True when this kernel lets connections use FUSE over io_uring (the fuse module's enable_uring), i.e.
    /// when <see cref="FuseMountOptions.IoUring"/> takes effect.</summary>
    public static bool IoUringAvailable => FuseUring.KernelAllows;

    /// <summary>Requests answered through FUSE over io_uring (<see cref="FuseMountOptions.IoUring"/>); 0 when the
    /// connection uses /dev/fuse only.</summary>
    public long RequestsThroughIoUring => _uring?.Served ?? 0;

    /// <summary>Waits until the connection ends (unmounted by anyone, or aborted).</summary>
    public bool Wait(TimeSpan timeout) => _ended.Wait(timeout);

    /// <summary>Waits until the connection ends (unmounted by anyone, or aborted).</summary>
    public void Wait() => _ended.Wait();

    /// <summary>
    /// Unmounts: umount2, and if busy (or <paramref name="lazy"/>) MNT_DETACH; through <c>fusermount3 -u [-z]</c> when
    /// not root. Idempotent. Returns OK, or the errno of the last attempt.
    /// </summary>
    public Errno Unmount(bool lazy = false)
    {
        if (Interlocked.Exchange(ref _unmounted, 1) != 0) return Errno.OK;
        return UnmountPath(MountPoint, lazy);
    }

    /// <summary>Unmounts <paramref name="path"/> (a FUSE mount): plain, then lazily if busy; fusermount3 when not root.</summary>
    public static Errno UnmountPath(string path, bool lazy = false)
    {
        if (FuseLibc.geteuid() != 0) return Fusermount(lazy ? ["-u", "-z", "--", path] : ["-u", "--", path]) ? Errno.OK : Errno.EPERM;
        if (!lazy)
        {
            for (int attempt = 0; attempt < 3; attempt++)
            {
                if (FuseLibc.umount2(path, 0) == 0) return Errno.OK;
                int e = FuseLibc.Errno;
                if (e == (int)Errno.EINVAL || e == (int)Errno.ENOENT) return Errno.OK; // not mounted (any more)
                if (e != (int)Errno.EBUSY) break;
                Thread.Sleep(20 << attempt);
            }
        }
        if (FuseLibc.umount2(path, FuseLibc.MNT_DETACH) == 0) return Errno.OK;
        int err = FuseLibc.Errno;
        return err == (int)Errno.EINVAL || err == (int)Errno.ENOENT ? Errno.OK : (Errno)err;
    }

    private static bool Fusermount(string[] args)
    {
        try
        {
            var psi = new ProcessStartInfo("fusermount3") { RedirectStandardError = true, UseShellExecute = false };
            foreach (string a in args) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            p.StandardError.ReadToEnd();
            p.WaitForExit();
            return p.ExitCode == 0;
        }
        catch (Exception) { return false; }
    }

    /// <summary>
    /// Aborts this mount's connection (see <see cref="AbortConnection"/>): for a daemon that must be forced away
    /// while its handlers hang. The readers then end; the mount stays until <see cref="Unmount"/>.
    /// </summary>
    public Errno Abort() => AbortConnection(MountPoint);

    /// <summary>
    /// Aborts the FUSE connection behind <paramref name="mountPoint"/> by writing to
    /// <c>/sys/fs/fuse/connections/&lt;dev&gt;/abort</c> (mounting fusectl there for the moment if it is not
    /// mounted; root only). Every pending and later request fails with ENOTCONN, the daemon's reads return
    /// ENODEV (or ECONNABORTED), and the mount stays until someone unmounts it: the way out of a wedged mount.
    /// </summary>
    /// <returns>OK; ENOENT if <paramref name="mountPoint"/> is not a FUSE mount; the errno of a failed step.</returns>
    public static Errno AbortConnection(string mountPoint)
    {
        if (DeviceOf(mountPoint) is not var (major, minor)) return Errno.ENOENT;
        string id = ((major << 20) | minor).ToString(CultureInfo.InvariantCulture);
        const string conns = "/sys/fs/fuse/connections";
        bool mounted = false;
        if (!Directory.Exists(Path.Combine(conns, id)))
        {
            if (FuseLibc.mount("none", conns, "fusectl", 0, "") != 0) return (Errno)FuseLibc.Errno;
            mounted = true;
        }
        try
        {
            File.WriteAllText(Path.Combine(conns, id, "abort"), "1");
            return Errno.OK;
        }
        catch (UnauthorizedAccessException) { return Errno.EACCES; }
        catch (IOException) { return Errno.ENOENT; }
        finally
        {
            if (mounted) FuseLibc.umount2(conns, FuseLibc.MNT_DETACH);
        }
    }

    /// <summary>
    /// Lazily unmounts FUSE mounts of type <c>fuse.</c><paramref name="subtype"/> listed in /proc/self/mountinfo,
    /// optionally only those under <paramref name="underPath"/>, and (with <paramref name="onlyDead"/>, the default)
    /// only those whose daemon is gone (stat answers ENOTCONN), so live mounts of a concurrent run survive.
    /// </summary>
    /// <returns>How many mounts were removed.</returns>
    public static int ClearStaleMounts(string subtype, string? underPath = null, bool onlyDead = true)
    {
        int removed = 0;
        string type = "fuse." + subtype;
        string[] lines;
        try { lines = File.ReadAllLines("/proc/self/mountinfo"); } catch (IOException) { return 0; }
        foreach (string line in lines)
        {
            int sep = line.IndexOf(" - ", StringComparison.Ordinal);
            if (sep < 0) continue;
            string[] left = line.Substring(0, sep).Split(' ');
            string[] right = line.Substring(sep + 3).Split(' ');
            if (left.Length < 5 || right.Length < 1 || right[0] != type) continue;
            string mnt = Unescape(left[4]);
            if (underPath != null && !mnt.StartsWith(underPath, StringComparison.Ordinal)) continue;
            if (onlyDead && !IsDead(mnt)) continue;
            if (UnmountPath(mnt, lazy: true) == Errno.OK) removed++;
        }
        return removed;
    }

    // statfs always reaches the daemon (stat and access may be answered from the kernel's caches).
    private static unsafe bool IsDead(string path)
    {
        byte* buf = stackalloc byte[256];
        return FuseLibc.statfs(path, buf) != 0 && FuseLibc.Errno == (int)Errno.ENOTCONN;
    }

    /// <summary>The device numbers (mountinfo's MAJOR:MINOR) of the last FUSE mount on <paramref name="mountPoint"/>,
    /// or null. Read from /proc/self/mountinfo: a stat of the mount point would itself be a FUSE request.</summary>
    private static (uint Major, uint Minor)? DeviceOf(string mountPoint)
    {
        string path = Path.GetFullPath(mountPoint);
        (uint, uint)? dev = null;
        foreach (string line in File.ReadLines("/proc/self/mountinfo"))
        {
            int sep = line.IndexOf(" - ", StringComparison.Ordinal);
            if (sep < 0) continue;
            string[] left = line.Substring(0, sep).Split(' ');
            string type = line.Substring(sep + 3).Split(' ')[0];
            if (left.Length < 5 || Unescape(left[4]) != path || !(type == "fuse" || type.StartsWith("fuse.", StringComparison.Ordinal) || type == "fuseblk")) continue;
            string[] mm = left[2].Split(':');
            if (mm.Length == 2 && uint.TryParse(mm[0], CultureInfo.InvariantCulture, out uint ma) && uint.TryParse(mm[1], CultureInfo.InvariantCulture, out uint mi)) dev = (ma, mi);
        }
        return dev;
    }

    /// <summary>
    /// Sets the mount's readahead window (<see cref="FuseMountOptions.ReadAheadKb"/>) once INIT has been answered:
    /// the kernel offers FUSE mounts the block layer's default, 128 KiB, so buffered sequential reads arrive as 128 KiB
    /// READs however large max_pages is; a larger window lets them grow to max_pages (1 MiB) and keeps several in
    /// flight. The window lives in the mount's backing device (/sys/class/bdi/MAJOR:MINOR/read_ahead_kb), which INIT
    /// can only lower; writing it needs root, and a failure leaves the kernel's default.
    /// </summary>
    private void ApplyReadAhead()
    {
        if (Interlocked.Exchange(ref _readAheadDone, 1) != 0) return;
        int kb = _options.ReadAheadKb;
        if (kb <= 0 || FuseLibc.geteuid() != 0) return;
        try
        {
            if (DeviceOf(MountPoint) is var (major, minor))
                File.WriteAllText($"/sys/class/bdi/{major}:{minor}/read_ahead_kb", kb.ToString(CultureInfo.InvariantCulture));
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    private static string Unescape(string s)
    {
        if (!s.Contains('\\')) return s;
        var sb = new System.Text.StringBuilder();
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == '\\' && i + 3 < s.Length && char.IsDigit(s[i + 1]))
            {
                sb.Append((char)Convert.ToInt32(s.Substring(i + 1, 3), 8));
                i += 3;
            }
            else sb.Append(s[i]);
        }
        return sb.ToString();
    }

    /// <summary>
    /// Unmounts (lazily if busy), waits up to <paramref name="timeout"/> for the readers to end, calls
    /// <see cref="FuseFileSystem.Destroy"/> and closes the descriptors of the readers that ended.
    /// </summary>
    public void Stop(TimeSpan timeout)
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        Unmount();
        bool ended = _readers.Count == 0 || _ended.Wait(timeout);
        // The rings' threads end with the connection too (the kernel completes their entries with ENOTCONN).
        if (_uring is not null && !_uring.Join(TimeSpan.FromSeconds(2))) ended = false;
        _notifications.CompleteAdding();
        _notifier?.Join(TimeSpan.FromSeconds(1));
        if (ended)
        {
            Dispatcher.Destroy();
            foreach (int fd in _fds) FuseLibc.close(fd);
            _fds.Clear();
        }
        // else: a lazily detached mount is still in use; its readers keep serving and own their descriptors.
    }

    /// <summary>Same as <see cref="Stop"/> with a 10 s wait.</summary>
    public void Dispose() => Stop(TimeSpan.FromSeconds(10));
}
