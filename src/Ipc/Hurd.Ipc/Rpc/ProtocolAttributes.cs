namespace Hurd.Ipc.Rpc;

/// <summary>
/// Marks a C# interface as an RPC subsystem (a MIG .defs file). The source generator emits,
/// for <c>IFoo</c> in namespace N: <c>N.FooClient</c> (a client proxy implementing IFoo over
/// an <see cref="IRpcTarget"/>), <c>N.FooServer.Dispatch(IFoo, ref RpcRequest)</c> and, for
/// each routine, <c>N.FooServer.Reply_name(DeferredReply, Errno, outs...)</c> for deferred replies.
/// Routine ids are <paramref name="baseId"/> plus the routine's index.
/// </summary>
[AttributeUsage(AttributeTargets.Interface)]
public sealed class SubsystemAttribute(string name, uint baseId) : Attribute
{
    public string Name { get; } = name;
    public uint BaseId { get; } = baseId;
}

/// <summary>A routine (call and reply) at index <paramref name="index"/> of its subsystem.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RoutineAttribute(int index) : Attribute
{
    public int Index { get; } = index;
}

/// <summary>A simpleroutine: one-way, no reply (MIG's <c>simpleroutine</c>). Returns void.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class SimpleRoutineAttribute(int index) : Attribute
{
    public int Index { get; } = index;
}
