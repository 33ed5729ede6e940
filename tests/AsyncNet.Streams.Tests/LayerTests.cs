using System.Reflection;
using System.Reflection.Emit;
using AsyncNet.Buffers;
using AsyncNet.Loop;
using AsyncNet.Testing;

namespace AsyncNet.Streams.Tests;

/// <summary>
/// The layer picture of the README, checked on the compiled assemblies: every type a namespace's code touches (in
/// signatures, fields and method bodies, compiler-generated closures and state machines included) belongs to that
/// namespace or to one it may use. A lower layer that reaches up fails here, naming the type and what it touched.
/// </summary>
public sealed class LayerTests
{
    /// <summary>Which AsyncNet namespaces each one may use (besides itself); the order is bottom to top.</summary>
    private static readonly Dictionary<string, string[]> s_mayUse = new()
    {
        ["AsyncNet.Interop"] = [],
        ["AsyncNet.Errors"] = [],
        ["AsyncNet.Buffers"] = [],
        ["AsyncNet.Selectors"] = ["AsyncNet.Interop", "AsyncNet.Errors"],
        ["AsyncNet.Loop"] = ["AsyncNet.Diagnostics", "AsyncNet.Selectors", "AsyncNet.Buffers", "AsyncNet.Errors", "AsyncNet.Interop"],

        // The loop's own observability (meter, log lines, debug-mode reports): one layer with the loop, so each may use the other.
        ["AsyncNet.Diagnostics"] = ["AsyncNet.Loop", "AsyncNet.Selectors", "AsyncNet.Buffers", "AsyncNet.Errors", "AsyncNet.Interop"],
        ["AsyncNet.Sync"] = ["AsyncNet.Loop", "AsyncNet.Errors"],
        ["AsyncNet.Transports"] = ["AsyncNet.Diagnostics", "AsyncNet.Loop", "AsyncNet.Buffers", "AsyncNet.Errors", "AsyncNet.Selectors", "AsyncNet.Interop"],
        ["AsyncNet.Streams.Framing.Codec"] = ["AsyncNet.Buffers", "AsyncNet.Errors"],
        ["AsyncNet.Streams.Diagnostics"] = ["AsyncNet.Streams.Framing.Codec", "AsyncNet.Diagnostics"],
        ["AsyncNet.Streams"] = ["AsyncNet.Streams.Diagnostics", "AsyncNet.Diagnostics", "AsyncNet.Transports", "AsyncNet.Loop", "AsyncNet.Buffers", "AsyncNet.Errors", "AsyncNet.Sync"],
        ["AsyncNet.Streams.Framing"] = ["AsyncNet.Streams.Diagnostics", "AsyncNet.Streams.Framing.Codec", "AsyncNet.Streams", "AsyncNet.Transports", "AsyncNet.Loop", "AsyncNet.Buffers", "AsyncNet.Errors"],
        ["AsyncNet.Streams.Adapters"] = ["AsyncNet.Streams", "AsyncNet.Transports", "AsyncNet.Loop", "AsyncNet.Errors"],
        ["AsyncNet.Streams.Dataflow"] = ["AsyncNet.Streams.Framing", "AsyncNet.Streams.Framing.Codec", "AsyncNet.Streams", "AsyncNet.Transports", "AsyncNet.Loop", "AsyncNet.Buffers", "AsyncNet.Errors"],
        ["AsyncNet.Testing"] = ["AsyncNet.Streams", "AsyncNet.Transports", "AsyncNet.Loop", "AsyncNet.Buffers", "AsyncNet.Errors"],
        ["AsyncNet.Testing.Faults"] = ["AsyncNet.Testing", "AsyncNet.Streams", "AsyncNet.Transports", "AsyncNet.Loop", "AsyncNet.Buffers", "AsyncNet.Errors"],
        ["AsyncNet.Testing.Syscalls"] = ["AsyncNet.Loop", "AsyncNet.Errors", "AsyncNet.Interop"],
    };

    private static readonly Dictionary<short, OpCode> s_opCodes = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    public static TheoryData<string> Assemblies => ["AsyncNet.Core", "AsyncNet.Streams", "AsyncNet.Testing"];

    [Theory]
    [MemberData(nameof(Assemblies))]
    public void NoNamespaceUsesOneAboveIt(string assemblyName)
    {
        Assembly assembly = assemblyName switch
        {
            "AsyncNet.Core" => typeof(EventLoop).Assembly,
            "AsyncNet.Streams" => typeof(StreamReader).Assembly,
            _ => typeof(ScriptedTransport).Assembly,
        };
        var violations = new SortedSet<string>(StringComparer.Ordinal);
        foreach (Type type in assembly.GetTypes())
        {
            string layer = LayerOf(type);
            if (layer.Length == 0 && Outermost(type).Name.StartsWith('<'))
            {
                // The compiler's own helpers (collection expressions, constant data) belong to no layer.
                continue;
            }

            Assert.True(s_mayUse.ContainsKey(layer), $"{type.FullName} is in {layer}, which the layer picture does not name");
            foreach (Type used in TypesUsedBy(type))
            {
                string usedLayer = LayerOf(used);
                if (usedLayer.StartsWith("AsyncNet", StringComparison.Ordinal) && usedLayer != layer && !s_mayUse[layer].Contains(usedLayer))
                {
                    violations.Add($"{layer} -> {usedLayer}: {type.FullName} uses {used.FullName}");
                }
            }
        }

        Assert.True(violations.Count == 0, "Lower layers reach up:\n" + string.Join("\n", violations));
    }

    [Fact]
    public void TheCheckSeesBodiesAndClosures_NotOnlySignatures()
    {
        // BufferPool's methods call nothing above it, but the loop's constructor makes one in a body: seen.
        Assert.Contains(typeof(BufferPool), TypesUsedBy(typeof(EventLoop)));

        // A state machine's body (an async method of the group factory) is attributed to the type that declares it.
        Assert.Contains(TypesUsedBy(typeof(AsyncNet.Transports.StreamTransportFactory)), t => t == typeof(EventLoopGroup));
    }

    /// <summary>A type's layer: its namespace, or its outermost declaring type's (closures, state machines).</summary>
    private static string LayerOf(Type type) => Outermost(type).Namespace ?? string.Empty;

    private static Type Outermost(Type type)
    {
        while (type.DeclaringType is { } outer)
        {
            type = outer;
        }

        return type;
    }

    private static IEnumerable<Type> TypesUsedBy(Type type)
    {
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        var used = new HashSet<Type>();
        if (type.BaseType is { } baseType)
        {
            Add(used, baseType);
        }

        foreach (Type implemented in type.GetInterfaces())
        {
            Add(used, implemented);
        }

        foreach (FieldInfo field in type.GetFields(all))
        {
            Add(used, field.FieldType);
        }

        foreach (MethodBase method in type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all)))
        {
            if (method is MethodInfo info)
            {
                Add(used, info.ReturnType);
            }

            foreach (ParameterInfo parameter in method.GetParameters())
            {
                Add(used, parameter.ParameterType);
            }

            foreach (Type inBody in TypesInBody(method))
            {
                Add(used, inBody);
            }
        }

        foreach (Type nested in type.GetNestedTypes(all))
        {
            used.UnionWith(TypesUsedBy(nested));
        }

        return used;
    }

    /// <summary>The types named by the tokens of a method's IL: types, and the declaring types of fields and methods.</summary>
    private static IEnumerable<Type> TypesInBody(MethodBase method)
    {
        byte[]? il = method.GetMethodBody()?.GetILAsByteArray();
        if (il is null)
        {
            yield break;
        }

        Type[]? typeArguments = method.DeclaringType is { IsGenericType: true } declaring ? declaring.GetGenericArguments() : null;
        Type[]? methodArguments = method.IsGenericMethod ? method.GetGenericArguments() : null;
        int i = 0;
        while (i < il.Length)
        {
            short value = il[i] == 0xFE ? (short)(0xFE00 | il[i + 1]) : il[i];
            OpCode opCode = s_opCodes[value];
            i += opCode.Size;
            int operandSize = OperandSize(opCode.OperandType, il, i);
            if (opCode.OperandType is OperandType.InlineType or OperandType.InlineTok or OperandType.InlineField or OperandType.InlineMethod)
            {
                int token = BitConverter.ToInt32(il, i);
                Type? named = null;
                try
                {
                    MemberInfo? member = method.Module.ResolveMember(token, typeArguments, methodArguments);
                    named = member as Type ?? member?.DeclaringType;
                    if (member is FieldInfo field)
                    {
                        named = field.DeclaringType;
                    }
                }
                catch (ArgumentException)
                {
                    // A token from a generic context we cannot rebuild here: its declaring type still shows in signatures.
                }

                if (named is not null)
                {
                    yield return named;
                }
            }

            i += operandSize;
        }
    }

    private static int OperandSize(OperandType operand, byte[] il, int at) => operand switch
    {
        OperandType.InlineNone => 0,
        OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
        OperandType.InlineVar => 2,
        OperandType.InlineI8 or OperandType.InlineR => 8,
        OperandType.InlineSwitch => 4 + (4 * BitConverter.ToInt32(il, at)),
        _ => 4,
    };

    private static void Add(HashSet<Type> used, Type type)
    {
        if (type.HasElementType)
        {
            Add(used, type.GetElementType()!);
            return;
        }

        if (type.IsGenericParameter || !used.Add(type))
        {
            return;
        }

        if (type.IsGenericType)
        {
            foreach (Type argument in type.GetGenericArguments())
            {
                Add(used, argument);
            }
        }
    }
}
