using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Ipc.Rpc;

namespace Hurd.Interfaces;

/// <summary>
/// The auth protocol (the Hurd's <c>hurd/auth.defs</c>, subsystem auth 25000), sent to an auth
/// handle: a port to the auth server naming four id vectors — effective uids, available uids,
/// effective gids, available gids. Permission checks use only the effective ids; by convention
/// the first available id is the "real" one and the second the "saved" one. Ids are at most
/// <see cref="HurdLimits.IdsMax"/> per vector.
/// </summary>
[Subsystem("auth", 25000)]
public interface IAuth
{
    /// <summary>The handle's four id vectors.</summary>
    [Routine(0)]
    Errno auth_getids(
        [MaxLength(HurdLimits.IdsMax)] Span<uint> euids, out int euidsCount,
        [MaxLength(HurdLimits.IdsMax)] Span<uint> auids, out int auidsCount,
        [MaxLength(HurdLimits.IdsMax)] Span<uint> egids, out int egidsCount,
        [MaxLength(HurdLimits.IdsMax)] Span<uint> agids, out int agidsCount);

    /// <summary>
    /// A new handle with the given vectors. Allowed only if this handle or one of
    /// <paramref name="otherHandles"/> holds uid 0 (effective or available), or if every requested
    /// id appears in one of those handles (EPERM otherwise): unprivileged code can only drop,
    /// reorder or combine ids it already holds.
    /// </summary>
    [Routine(1)]
    Errno auth_makeauth(ReadOnlySpan<PortName> otherHandles, ReadOnlySpan<uint> euids, ReadOnlySpan<uint> auids,
        ReadOnlySpan<uint> egids, ReadOnlySpan<uint> agids, out PortName newhandle);

    /// <summary>
    /// The user's half of the rendezvous: waits (interruptibly; the rendezvous port's death also
    /// ends it) for the server's <see cref="auth_server_authenticate"/> with the same
    /// <paramref name="rendezvous"/>, then returns the port the server made for this handle's ids.
    /// The server side defers this reply until the other half arrives.
    /// </summary>
    [Routine(2)]
    Errno auth_user_authenticate([Right(Disposition.MakeSend)] PortName rendezvous, [Right(Disposition.MoveSend)] out PortName newport);

    /// <summary>
    /// The server's half of the rendezvous: passes <paramref name="newport"/> to the user waiting
    /// with <paramref name="rendezvous"/> and learns that user's ids, which the server then binds
    /// to the new port (iohelp_reauth). Waits for the user's half like it.
    /// </summary>
    [Routine(3)]
    Errno auth_server_authenticate(PortName rendezvous, PortRight newport,
        [MaxLength(HurdLimits.IdsMax)] Span<uint> euids, out int euidsCount,
        [MaxLength(HurdLimits.IdsMax)] Span<uint> auids, out int auidsCount,
        [MaxLength(HurdLimits.IdsMax)] Span<uint> egids, out int egidsCount,
        [MaxLength(HurdLimits.IdsMax)] Span<uint> agids, out int agidsCount);
}
