namespace Hurd.Fuse;

/// <summary>
/// One reader thread's in-flight request, so that an INTERRUPT can find its victim and fire the
/// victim's <see cref="FuseContext.Cancellation"/>. Created by <see cref="FuseDispatcher.CreateSlot"/>;
/// used by one thread at a time; reused across requests without allocating unless a token was fired.
/// </summary>
public sealed class FuseRequestSlot
{
    /// <summary>
    /// How long an interrupted request may still finish normally before its token fires. A signal to the caller
    /// makes the kernel send INTERRUPT at once, and runtimes signal their own threads all the time (the .NET GC
    /// suspends threads with a signal, fuse.md §1.6): cancelling a quick mknod or write at once would hand the
    /// caller a spurious EINTR. Only a request still running after this grace is cancelled (the Hurd's glibc, too,
    /// lets an interrupted RPC run on before it gives up on the server).
    /// </summary>
    public static TimeSpan InterruptGrace { get; set; } = TimeSpan.FromSeconds(1);

    private CancellationTokenSource _cts = new();
    private ulong _unique;
    private bool _armed;

    internal CancellationToken Begin(ulong unique)
    {
        lock (this)
        {
            // A token whose cancellation was scheduled belongs to the request it was scheduled for.
            if (_armed || _cts.IsCancellationRequested) { _cts = new CancellationTokenSource(); _armed = false; }
            _unique = unique;
            return _cts.Token;
        }
    }

    internal void End()
    {
        lock (this) _unique = 0;
    }

    internal bool TryInterrupt(ulong unique)
    {
        lock (this)
        {
            if (_unique != unique || unique == 0) return false;
            if (!_armed)
            {
                _armed = true;
                if (InterruptGrace <= TimeSpan.Zero) _cts.Cancel(); else _cts.CancelAfter(InterruptGrace);
            }
            return true;
        }
    }
}
