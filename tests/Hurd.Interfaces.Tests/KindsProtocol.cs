using System.Runtime.InteropServices;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Ipc.Rpc;

namespace Hurd.Interfaces.Tests;

/// <summary>A short-backed enum, to test enums of every width.</summary>
public enum SmallEnum : short { A = 1, B = -2 }
/// <summary>A byte-backed enum.</summary>
public enum TinyEnum : byte { X = 7, Y = 255 }

/// <summary>An odd-sized struct (not a multiple of 8) to test struct alignment.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct Odd { public int A; public byte B; }

/// <summary>
/// A test-only protocol using every parameter kind the generator supports, so the round-trip
/// tests cover them all (the stubs are generated for this project too).
/// </summary>
[Subsystem("kinds", 90000)]
public interface IKinds
{
    [Routine(0)]
    Errno scalars(int i, uint u, long l, ulong ul, short s, ushort us, byte b, sbyte sb, bool f, OpenFlags e, SmallEnum se, TinyEnum te,
        out int oi, out uint ou, out long ol, out ulong oul, out short os, out ushort ous, out byte ob, out sbyte osb, out bool of, out OpenFlags oe, out SmallEnum ose, out TinyEnum ote);

    [Routine(1)]
    Errno structs(in Stat a, TimeSpec b, Odd c, out Stat oa, out Odd oc, ref TimeSpec rb);

    [Routine(2)]
    Errno arrays(ReadOnlySpan<byte> data, ReadOnlySpan<uint> ids, int take, [Hurd.Interfaces.MaxLength(64)] Span<byte> outData, out int outDataCount, out int idSum);

    [Routine(3)]
    Errno ports(PortName copied, [Right(Disposition.MoveSend)] PortName moved, PortRight poly, PortName none,
        out PortName made, [Right(Disposition.CopySend)] out PortName copiedOut, out PortRight polyOut, out PortName noneOut);

    [SimpleRoutine(4)]
    void oneway(int x, ReadOnlySpan<byte> note);

    [SimpleRoutine(5)]
    Errno oneway_errno(PortName p);

    [Routine(6)]
    Errno refs(ref int counter, ref SelectType sel, ref Flock lk);

    [Routine(7)]
    Errno nothing();

    [Routine(8)]
    Errno multi(int n, [MaxLength(8)] Span<byte> a, out int aCount, [MaxLength(4)] Span<uint> ids, out int idsCount, Span<byte> rest, out int restCount, out int tail);

    [Routine(9)]
    Errno portarray(ReadOnlySpan<PortName> ports, [Right(Disposition.MoveSend)] ReadOnlySpan<PortName> moved, out int count);

    [Routine(10)]
    Errno ints(ReadOnlySpan<int> a, Span<int> negated, out int negatedCount);

    [Routine(99)]
    Errno deferred(int x, Span<byte> text, out int textCount, out long y);
}

/// <summary>Echoes the ins into the outs; records the ins.</summary>
public sealed class KindsImpl : IKinds
{
    public int Calls;
    public PortName InCopied, InMoved, InNone;
    public PortRight InPoly;
    public int OnewayX;
    public byte[] OnewayNote = [];
    public bool Defer;
    public DeferredReply? Deferred;

    public Errno scalars(int i, uint u, long l, ulong ul, short s, ushort us, byte b, sbyte sb, bool f, OpenFlags e, SmallEnum se, TinyEnum te,
        out int oi, out uint ou, out long ol, out ulong oul, out short os, out ushort ous, out byte ob, out sbyte osb, out bool of, out OpenFlags oe, out SmallEnum ose, out TinyEnum ote)
    {
        Calls++;
        oi = i; ou = u; ol = l; oul = ul; os = s; ous = us; ob = b; osb = sb; of = f; oe = e; ose = se; ote = te;
        return Errno.OK;
    }

    public Errno structs(in Stat a, TimeSpec b, Odd c, out Stat oa, out Odd oc, ref TimeSpec rb)
    {
        Calls++;
        oa = a; oc = c;
        rb = new TimeSpec(rb.Sec + b.Sec, rb.Nsec + b.Nsec);
        return Errno.OK;
    }

    public Errno arrays(ReadOnlySpan<byte> data, ReadOnlySpan<uint> ids, int take, Span<byte> outData, out int outDataCount, out int idSum)
    {
        Calls++;
        int n = Math.Min(take, outData.Length);
        for (int k = 0; k < n; k++) outData[k] = data.IsEmpty ? (byte)0 : data[k % data.Length];
        outDataCount = n;
        idSum = 0;
        foreach (var id in ids) idSum += (int)id;
        return Errno.OK;
    }

    public Errno ports(PortName copied, PortName moved, PortRight poly, PortName none,
        out PortName made, out PortName copiedOut, out PortRight polyOut, out PortName noneOut)
    {
        Calls++;
        InCopied = copied; InMoved = moved; InPoly = poly; InNone = none;
        made = new PortName(100); copiedOut = new PortName(101); polyOut = PortRight.MoveSend(new PortName(102)); noneOut = PortName.Null;
        return Errno.OK;
    }

    public void oneway(int x, ReadOnlySpan<byte> note) { Calls++; OnewayX = x; OnewayNote = note.ToArray(); }
    public Errno oneway_errno(PortName p) { Calls++; InCopied = p; return Errno.EIO; }

    public Errno refs(ref int counter, ref SelectType sel, ref Flock lk)
    {
        Calls++;
        counter++; sel &= SelectType.Write; lk.Pid = 1234; lk.Len *= 2;
        return Errno.OK;
    }

    public Errno nothing() { Calls++; return Errno.OK; }

    public Errno ints(ReadOnlySpan<int> a, Span<int> negated, out int negatedCount)
    {
        Calls++;
        negatedCount = Math.Min(a.Length, negated.Length);
        for (int i = 0; i < negatedCount; i++) negated[i] = -a[i];
        return Errno.OK;
    }

    public int MultiALength, MultiIdsLength, MultiRestLength;
    public PortName[] InPorts = [], InMovedArray = [];

    public Errno multi(int n, Span<byte> a, out int aCount, Span<uint> ids, out int idsCount, Span<byte> rest, out int restCount, out int tail)
    {
        Calls++;
        MultiALength = a.Length; MultiIdsLength = ids.Length; MultiRestLength = rest.Length;
        "ab"u8.CopyTo(a); aCount = 2;
        ids[0] = 1; ids[1] = 2; idsCount = 2;
        int k = Math.Min(n, rest.Length);
        for (int i = 0; i < k; i++) rest[i] = (byte)('x' + i % 3);
        restCount = k;
        tail = 9;
        return Errno.OK;
    }

    public Errno portarray(ReadOnlySpan<PortName> ports, ReadOnlySpan<PortName> moved, out int count)
    {
        Calls++;
        InPorts = ports.ToArray(); InMovedArray = moved.ToArray();
        count = ports.Length + moved.Length;
        return Errno.OK;
    }

    public Errno deferred(int x, Span<byte> text, out int textCount, out long y)
    {
        Calls++;
        textCount = 0; y = 0;
        if (Defer)
        {
            Deferred = CallContext.Current?.DeferReply();
            return Errno.MIG_NO_REPLY;
        }
        "now"u8.CopyTo(text); textCount = 3; y = x;
        return Errno.OK;
    }
}
