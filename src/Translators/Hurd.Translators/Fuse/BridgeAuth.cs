using System.Collections.Concurrent;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Translators.Serving;

namespace Hurd.Translators.Fuse;

/// <summary>
/// How the bridge makes a node's port for a caller other than root (DESIGN decision 5: a server learns a client's ids
/// through the auth rendezvous). With an auth handle (<see cref="FuseBridgeOptions.Auth"/>): auth_makeauth of the
/// caller's ids from that handle (euids [uid], auids [uid], egids [gid, groups...], agids [gid]; cached per identity),
/// then io_reauthenticate of the node's uid-0 port with it (<see cref="AuthPorts.Reauthenticate"/>), so the translator
/// takes the ids from auth. Fallback, io_restrict_auth(uids, gids) on the node's uid-0 port (root may restrict to any
/// ids), when the bridge has no auth handle or it is dead, when the handle may not make the caller's ids (EPERM: a
/// daemon not run by root), or when the translator refuses the rendezvous (EOPNOTSUPP: it has no auth server). A
/// deadline or an interrupt is not a reason to fall back: it is the caller's answer.
/// </summary>
internal sealed class BridgeAuth(Func<SendRight?>? source, TimeSpan timeout, int maxHandles) : IDisposable
{
    private readonly ConcurrentDictionary<BridgeIdentity, SendRight> _handles = new();
    // Identities the handle may not make (EPERM: a daemon not run by root), so each miss does not ask auth again;
    // forgotten when the handle changes.
    private readonly ConcurrentDictionary<BridgeIdentity, byte> _denied = new();
    private SendRight? _deniedBy;
    private long _reauthenticated, _restricted;

    /// <summary>Ports made through auth (io_reauthenticate).</summary>
    public long Reauthenticated => Interlocked.Read(ref _reauthenticated);

    /// <summary>Why the last fallback to io_restrict_auth happened while the bridge had a handle (diagnostics).</summary>
    public Errno LastFallback { get; private set; }

    /// <summary>Ports made by the fallback (io_restrict_auth).</summary>
    public long Restricted => Interlocked.Read(ref _restricted);

    /// <summary>A new port for <paramref name="id"/> on the node whose uid-0 port is <paramref name="root"/> (a lease the
    /// caller keeps).</summary>
    public Errno Derive(PortRef root, BridgeIdentity id, CancellationToken ct, out SendRight? port)
    {
        port = null;
        Errno e;
        var auth = source?.Invoke();
        if (auth is not null && !auth.IsDead)
        {
            e = HandleFor(auth, id, out var handle);
            if (e == Errno.OK)
            {
                PortRef.Cancellation = ct;
                e = AuthPorts.Reauthenticate(root, handle!, timeout, ct, out port);
                if (e == Errno.OK) { Interlocked.Increment(ref _reauthenticated); return e; }
                if (handle!.IsDead) Drop(id, handle);
            }
            if (e is Errno.EINTR or Errno.ETIMEDOUT) return e;
            LastFallback = e;
        }
        PortRef.Cancellation = ct;
        e = root.Io.io_restrict_auth(out var np, id.Uids, id.Gids);
        if (e != Errno.OK) return e;
        port = SendRight.FromName(np);
        if (port is null) return Errno.EIO;
        Interlocked.Increment(ref _restricted);
        return Errno.OK;
    }

    private Errno HandleFor(SendRight auth, BridgeIdentity id, out SendRight? handle)
    {
        if (_handles.TryGetValue(id, out handle) && !handle.IsDead) return Errno.OK;
        if (handle is not null) Drop(id, handle);
        if (!ReferenceEquals(Volatile.Read(ref _deniedBy), auth)) { _denied.Clear(); Volatile.Write(ref _deniedBy, auth); }
        else if (_denied.ContainsKey(id)) return Errno.EPERM;
        var ids = new Identity(id.Uids, id.Gids, id.Uids, id.Gids[..1]);
        var e = AuthPorts.MakeAuth(auth, ids, out handle, (int)Math.Clamp(timeout.TotalMilliseconds, 1, int.MaxValue));
        if (e == Errno.EPERM && _denied.Count < maxHandles) _denied.TryAdd(id, 0);
        if (e != Errno.OK) return e;
        if (_handles.Count >= maxHandles) Clear();
        if (!_handles.TryAdd(id, handle!))
        {
            // Another thread made one first: use it and drop ours.
            handle!.Dispose();
            if (!_handles.TryGetValue(id, out handle)) return Errno.EAGAIN;
        }
        return Errno.OK;
    }

    private void Drop(BridgeIdentity id, SendRight handle)
    {
        if (_handles.TryRemove(new KeyValuePair<BridgeIdentity, SendRight>(id, handle))) handle.Dispose();
    }

    // A handle in use by another thread keeps working until that call ends: a call holds the right's entry, and a
    // disposed SendRight only fails calls begun after it (EBADF), which the caller then answers by falling back.
    private void Clear()
    {
        foreach (var kv in _handles) Drop(kv.Key, kv.Value);
    }

    /// <summary>Drops the cached handles.</summary>
    public void Dispose() => Clear();
}
