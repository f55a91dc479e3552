using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Hurd.Ipc.Generator
{
    /// <summary>
    /// The MIG of this system: for every interface marked <c>[Hurd.Ipc.Rpc.Subsystem]</c> it emits
    /// a client proxy (<c>FooClient</c>), the server dispatch (<c>FooServer.Dispatch</c>), the deferred
    /// reply helpers (<c>FooServer.Reply_routine</c>) and the id constants (<c>FooServer.Ids</c>).
    /// The wire encoding is <c>MessageWriter</c>'s; the layout rules are in <see cref="Emitter"/>.
    /// </summary>
    [Generator(LanguageNames.CSharp)]
    public sealed class SubsystemGenerator : IIncrementalGenerator
    {
        /// <summary>The tracking name of the parse step (tests check it is cached across unrelated edits).</summary>
        public const string TrackingName = "HurdSubsystems";
        internal const string SubsystemAttribute = "Hurd.Ipc.Rpc.SubsystemAttribute";
        internal const string RoutineAttribute = "Hurd.Ipc.Rpc.RoutineAttribute";
        internal const string SimpleRoutineAttribute = "Hurd.Ipc.Rpc.SimpleRoutineAttribute";
        internal const string ErrnoType = "Hurd.Ipc.Abi.Errno";
        internal const string PortNameType = "Hurd.Ipc.Ports.PortName";
        internal const string PortRightType = "Hurd.Interfaces.PortRight";
        internal const string RightAttribute = "Hurd.Interfaces.RightAttribute";
        internal const string MaxLengthAttribute = "Hurd.Interfaces.MaxLengthAttribute";
        internal const string CallerBufferAttribute = "Hurd.Interfaces.CallerBufferAttribute";

        /// <inheritdoc/>
        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            var models = context.SyntaxProvider.ForAttributeWithMetadataName(
                SubsystemAttribute,
                static (node, _) => node is InterfaceDeclarationSyntax,
                static (ctx, ct) => Parse(ctx, ct))
                .WithTrackingName(TrackingName);

            context.RegisterSourceOutput(models, static (spc, model) =>
            {
                if (model is null) return;
                bool failed = false;
                foreach (var d in model.Diagnostics)
                {
                    spc.ReportDiagnostic(d.ToDiagnostic());
                    failed |= d.Descriptor.DefaultSeverity == DiagnosticSeverity.Error;
                }
                if (failed) return;
                string hint = (model.Namespace.Length == 0 ? "" : model.Namespace + ".") + model.InterfaceName + ".g.cs";
                spc.AddSource(hint, Emitter.Emit(model));
            });
        }

        private static SubsystemModel? Parse(GeneratorAttributeSyntaxContext ctx, CancellationToken ct)
        {
            if (ctx.TargetSymbol is not INamedTypeSymbol iface || iface.TypeKind != TypeKind.Interface) return null;
            var attr = ctx.Attributes.FirstOrDefault();
            if (attr is null || attr.ConstructorArguments.Length != 2) return null;
            string subsystemName = attr.ConstructorArguments[0].Value as string ?? "";
            uint baseId = attr.ConstructorArguments[1].Value is uint b ? b : 0;

            var diags = new List<DiagnosticInfo>();
            var routines = new List<RoutineModel>();
            if (iface.IsGenericType || iface.Interfaces.Length > 0)
                diags.Add(Diag(Diagnostics.BadInterface, iface.Locations.FirstOrDefault(), iface.Name));
            var byIndex = new Dictionary<int, string>();

            foreach (var member in iface.GetMembers())
            {
                ct.ThrowIfCancellationRequested();
                if (member is IMethodSymbol { MethodKind: MethodKind.PropertyGet or MethodKind.PropertySet or MethodKind.EventAdd or MethodKind.EventRemove })
                    continue; // reported on the property/event itself
                if (member is not IMethodSymbol m || m.MethodKind != MethodKind.Ordinary || m.IsStatic || m.IsGenericMethod)
                {
                    if (member is IMethodSymbol { IsStatic: true } || member is INamedTypeSymbol) continue; // nested types and static helpers are allowed
                    diags.Add(Diag(Diagnostics.UnsupportedMember, member.Locations.FirstOrDefault(), member.Name, iface.Name));
                    continue;
                }
                var r = ParseRoutine(m, baseId, iface.Name, diags);
                if (r is null) continue;
                if (byIndex.TryGetValue(r.Index, out var other))
                    diags.Add(Diag(Diagnostics.DuplicateIndex, m.Locations.FirstOrDefault(), other, m.Name, r.Index.ToString()));
                else
                    byIndex[r.Index] = m.Name;
                routines.Add(r);
            }

            string ns = iface.ContainingNamespace.IsGlobalNamespace ? "" : iface.ContainingNamespace.ToDisplayString();
            string stem = iface.Name.Length > 1 && iface.Name[0] == 'I' && char.IsUpper(iface.Name[1]) ? iface.Name.Substring(1) : iface.Name;
            string access = iface.DeclaredAccessibility == Accessibility.Public ? "public" : "internal";
            return new SubsystemModel(ns, iface.Name, iface.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat), stem, access,
                subsystemName, baseId,
                new EquatableArray<RoutineModel>(routines.OrderBy(x => x.Index).ToImmutableArray()),
                new EquatableArray<DiagnosticInfo>(diags.ToImmutableArray()));
        }

        private static RoutineModel? ParseRoutine(IMethodSymbol m, uint baseId, string ifaceName, List<DiagnosticInfo> diags)
        {
            var loc = m.Locations.FirstOrDefault();
            int? index = null;
            bool simple = false;
            foreach (var a in m.GetAttributes())
            {
                string? n = a.AttributeClass?.ToDisplayString();
                if (n == RoutineAttribute || n == SimpleRoutineAttribute)
                {
                    simple = n == SimpleRoutineAttribute;
                    if (a.ConstructorArguments.Length == 1 && a.ConstructorArguments[0].Value is int i) index = i;
                }
            }
            if (index is null)
            {
                diags.Add(Diag(Diagnostics.MissingRoutineAttribute, loc, m.Name, ifaceName));
                return null;
            }
            bool ok = true;
            if (index < 0 || index > 99)
            {
                diags.Add(Diag(Diagnostics.IndexOutOfRange, loc, m.Name, index.Value.ToString()));
                ok = false;
            }
            bool returnsErrno = m.ReturnType.ToDisplayString() == ErrnoType;
            bool returnsVoid = m.ReturnsVoid;
            if (!(returnsErrno || (simple && returnsVoid)))
            {
                diags.Add(Diag(Diagnostics.BadReturnType, loc, m.Name, simple ? " or void" : ""));
                ok = false;
            }

            foreach (var p in m.Parameters)
                if (p.Name.StartsWith("__", System.StringComparison.Ordinal))
                {
                    diags.Add(Diag(Diagnostics.ReservedName, p.Locations.FirstOrDefault() ?? loc, p.Name, m.Name));
                    ok = false;
                }
            var ps = new List<ParamModel>();
            string? lastUnbounded = null;
            for (int i = 0; i < m.Parameters.Length; i++)
            {
                var p = m.Parameters[i];
                var ploc = p.Locations.FirstOrDefault() ?? loc;
                var pm = ParseParam(p, m, ref i, diags, ploc);
                if (pm is null) { ok = false; continue; }
                if (pm.Kind is ParamKind.BytesOut or ParamKind.UIntsOut)
                {
                    if (lastUnbounded is not null)
                    {
                        diags.Add(Diag(Diagnostics.TooManyByteOuts, ploc, lastUnbounded, m.Name));
                        ok = false;
                    }
                    lastUnbounded = pm.MaxLength > 0 ? null : pm.Name;
                }
                if (simple && (pm.Direction != ParamDirection.In || pm.Kind is ParamKind.BytesOut or ParamKind.UIntsOut))
                {
                    diags.Add(Diag(Diagnostics.SimpleRoutineWithOuts, ploc, m.Name, p.Name));
                    ok = false;
                }
                ps.Add(pm);
            }
            if (!ok) return null;
            return new RoutineModel(m.Name, index.Value, baseId + (uint)index.Value, simple, returnsVoid,
                new EquatableArray<ParamModel>(ps.ToImmutableArray()));
        }

        private static ParamModel? ParseParam(IParameterSymbol p, IMethodSymbol m, ref int i, List<DiagnosticInfo> diags, Location? loc)
        {
            var t = p.Type;
            if (t.TypeKind == TypeKind.Error) return null; // the compiler reports it
            string typeName = t.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);
            var dir = p.RefKind switch
            {
                RefKind.Out => ParamDirection.Out,
                RefKind.Ref => ParamDirection.Ref,
                _ => ParamDirection.In,
            };
            string refMod = p.RefKind switch
            {
                RefKind.Out => "out ",
                RefKind.Ref => "ref ",
                RefKind.In => "in ",
                RefKind.RefReadOnlyParameter => "ref readonly ",
                _ => "",
            };
            ParamModel Make(ParamKind k, string wire = "", string underlying = "", string disp = "", int max = 0, string count = "")
                => new(p.Name, typeName, k, dir, refMod, wire, underlying, disp, max, count);
            DiagnosticInfo Unsupported() => Diag(Diagnostics.UnsupportedType, loc, p.Name, m.Name, t.ToDisplayString());

            // Spans: only by value.
            if (t is INamedTypeSymbol { IsGenericType: true } nt && nt.TypeArguments.Length == 1)
            {
                string def = nt.OriginalDefinition.ToDisplayString();
                var arg = nt.TypeArguments[0].SpecialType;
                bool int32 = arg is SpecialType.System_UInt32 or SpecialType.System_Int32;
                string elem = arg == SpecialType.System_Int32 ? "int" : "uint";
                if (p.RefKind == RefKind.None && def == "System.Span<T>" && (arg == SpecialType.System_Byte || int32))
                {
                    var next = i + 1 < m.Parameters.Length ? m.Parameters[i + 1] : null;
                    if (next is null || next.RefKind != RefKind.Out || next.Type.SpecialType != SpecialType.System_Int32)
                    {
                        diags.Add(Diag(Diagnostics.SpanWithoutCount, loc, p.Name, m.Name));
                        return null;
                    }
                    i++;
                    int max = 0;
                    bool callerBuffer = false;
                    foreach (var a in p.GetAttributes())
                    {
                        if (a.AttributeClass?.ToDisplayString() == MaxLengthAttribute && a.ConstructorArguments.Length == 1 && a.ConstructorArguments[0].Value is int mx)
                            max = mx;
                        if (a.AttributeClass?.ToDisplayString() == CallerBufferAttribute) callerBuffer = true;
                    }
                    return arg == SpecialType.System_Byte
                        ? Make(ParamKind.BytesOut, max: max, count: next.Name) with { CallerBuffer = callerBuffer }
                        : Make(ParamKind.UIntsOut, underlying: elem, max: max, count: next.Name);
                }
                if (p.RefKind == RefKind.None && def == "System.ReadOnlySpan<T>" && arg == SpecialType.System_Byte)
                    return Make(ParamKind.BytesIn) with { CallerBuffer = p.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == CallerBufferAttribute) };
                if (p.RefKind == RefKind.None && def == "System.ReadOnlySpan<T>" && int32)
                    return Make(ParamKind.UIntsIn, underlying: elem);
                if (p.RefKind == RefKind.None && def == "System.ReadOnlySpan<T>" && nt.TypeArguments[0].ToDisplayString() == PortNameType)
                {
                    string? disp = Disposition(p, m, loc, diags, "CopySend");
                    return disp is null ? null : Make(ParamKind.PortsIn, disp: disp);
                }
                diags.Add(Unsupported());
                return null;
            }

            string full = t.ToDisplayString();
            if (full == PortNameType || full == PortRightType)
            {
                if (dir == ParamDirection.Ref) { diags.Add(Unsupported()); return null; }
                if (full == PortRightType) return Make(ParamKind.PortRight);
                string? disp = Disposition(p, m, loc, diags, dir == ParamDirection.Out ? "MakeSend" : "CopySend");
                return disp is null ? null : Make(ParamKind.Port, disp: disp);
            }

            var scalarType = t is INamedTypeSymbol { TypeKind: TypeKind.Enum, EnumUnderlyingType: { } u } ? u : t;
            string? wire = scalarType.SpecialType switch
            {
                SpecialType.System_Int32 or SpecialType.System_Int16 or SpecialType.System_SByte => "Int32",
                SpecialType.System_UInt32 or SpecialType.System_UInt16 or SpecialType.System_Byte => "UInt32",
                SpecialType.System_Int64 => "Int64",
                SpecialType.System_UInt64 => "UInt64",
                SpecialType.System_Boolean => "Bool",
                _ => null,
            };
            if (wire is not null)
                return Make(ParamKind.Scalar, wire: wire, underlying: scalarType.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat));

            if (t.TypeKind == TypeKind.Struct && t.IsUnmanagedType && !t.IsRefLikeType && t.SpecialType == SpecialType.None
                && t is INamedTypeSymbol { IsGenericType: false })
                return Make(ParamKind.Struct);

            diags.Add(Unsupported());
            return null;
        }

        /// <summary>The disposition from [Right(...)], or <paramref name="fallback"/>; null (reported) if it is not a right-moving one.</summary>
        private static string? Disposition(IParameterSymbol p, IMethodSymbol m, Location? loc, List<DiagnosticInfo> diags, string fallback)
        {
            string disp = fallback;
            foreach (var a in p.GetAttributes())
            {
                if (a.AttributeClass?.ToDisplayString() != RightAttribute || a.ConstructorArguments.Length != 1) continue;
                var arg = a.ConstructorArguments[0];
                string? name = null;
                if (arg.Type is INamedTypeSymbol et)
                    foreach (var f in et.GetMembers().OfType<IFieldSymbol>())
                        if (f.HasConstantValue && Equals(f.ConstantValue, arg.Value)) { name = f.Name; break; }
                if (name is null or "None")
                {
                    diags.Add(Diag(Diagnostics.BadDisposition, loc, p.Name, m.Name, name ?? arg.Value?.ToString() ?? "?"));
                    return null;
                }
                disp = name;
            }
            return disp;
        }

        private static DiagnosticInfo Diag(DiagnosticDescriptor d, Location? loc, params string[] args)
            => new(d, loc, new EquatableArray<string>(args.ToImmutableArray()));
    }
}
