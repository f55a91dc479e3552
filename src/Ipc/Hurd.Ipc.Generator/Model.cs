using System;
using System.Collections;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace System.Runtime.CompilerServices
{
    /// <summary>Polyfill so records compile on netstandard2.0.</summary>
    internal static class IsExternalInit { }
}

namespace Hurd.Ipc.Generator
{
    /// <summary>An immutable array with value equality, so the incremental pipeline can cache models.</summary>
    internal readonly struct EquatableArray<T> : IEquatable<EquatableArray<T>>, IEnumerable<T>
    {
        private readonly ImmutableArray<T> _items;
        public EquatableArray(ImmutableArray<T> items) => _items = items;
        public ImmutableArray<T> Items => _items.IsDefault ? ImmutableArray<T>.Empty : _items;
        public int Count => Items.Length;
        public T this[int i] => Items[i];
        public bool Equals(EquatableArray<T> other) => Items.SequenceEqual(other.Items);
        public override bool Equals(object? obj) => obj is EquatableArray<T> o && Equals(o);
        public override int GetHashCode()
        {
            int h = 17;
            foreach (var x in Items) h = h * 31 + (x?.GetHashCode() ?? 0);
            return h;
        }
        public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)Items).GetEnumerator();
        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }

    /// <summary>How a parameter travels.</summary>
    internal enum ParamKind
    {
        /// <summary>int, uint, long, ulong, short, ushort, byte, sbyte, bool, or an enum of those.</summary>
        Scalar,
        /// <summary>An unmanaged struct, 8-aligned, as its memory layout.</summary>
        Struct,
        /// <summary>ReadOnlySpan&lt;byte&gt; in: a byte array.</summary>
        BytesIn,
        /// <summary>ReadOnlySpan&lt;uint&gt; in: an id array (a byte array of 4·n bytes).</summary>
        UIntsIn,
        /// <summary>Span&lt;byte&gt; + out int: an out byte array.</summary>
        BytesOut,
        /// <summary>Span&lt;uint&gt; + out int: an out id array.</summary>
        UIntsOut,
        /// <summary>ReadOnlySpan&lt;PortName&gt; in: a port array (u32 count, then one right index each).</summary>
        PortsIn,
        /// <summary>PortName with a fixed disposition.</summary>
        Port,
        /// <summary>PortRight: name and disposition chosen at run time.</summary>
        PortRight,
    }

    internal enum ParamDirection { In, Out, Ref }

    /// <summary>One parameter of a routine (a BytesOut also owns its count parameter).</summary>
    internal sealed record ParamModel(
        string Name,
        string Type,
        ParamKind Kind,
        ParamDirection Direction,
        string RefModifier,
        string Wire,
        string Underlying,
        string Disposition,
        int MaxLength,
        string CountName,
        bool CallerBuffer = false);

    /// <summary>One routine or simpleroutine.</summary>
    internal sealed record RoutineModel(
        string Name,
        int Index,
        uint Id,
        bool IsSimple,
        bool ReturnsVoid,
        EquatableArray<ParamModel> Params);

    /// <summary>A diagnostic to report (kept in the model so it is cached with it).</summary>
    internal sealed record DiagnosticInfo(DiagnosticDescriptor Descriptor, Location? Location, EquatableArray<string> Args)
    {
        public Diagnostic ToDiagnostic() => Diagnostic.Create(Descriptor, Location, Args.Items.ToArray<object>());
    }

    /// <summary>One [Subsystem] interface.</summary>
    internal sealed record SubsystemModel(
        string Namespace,
        string InterfaceName,
        string InterfaceType,
        string StemName,
        string Accessibility,
        string SubsystemName,
        uint BaseId,
        EquatableArray<RoutineModel> Routines,
        EquatableArray<DiagnosticInfo> Diagnostics);
}
