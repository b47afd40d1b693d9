package dev.kiln;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.lang.module.ModuleDescriptor;
import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.Field;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Member;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.lang.reflect.WildcardType;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Walks the public API of every package {@code kiln-engine-api} exports to everyone (read from its
 * compiled {@code module-info}) and fails on any type from a package it does not export to
 * everyone ({@code dev.kiln.runtime}, exported to Kiln's command line and conformance kit only):
 * a user on the module path could not name such a type, and on the class path it would be API by
 * accident. Checked: superclasses and interfaces, public and protected fields, constructors,
 * methods (return, parameter, exception and type-parameter bounds), record components, and nested
 * public classes, with every generic argument.
 */
class ExportedApiTest {

    @Test
    void noExportedSignatureNamesAnUnexportedType() throws Exception {
        ModuleDescriptor module = descriptor();
        Set<String> open = new HashSet<>();
        for (ModuleDescriptor.Exports e : module.exports()) {
            if (!e.isQualified()) {
                open.add(e.source());
            }
        }
        Set<String> hidden = new TreeSet<>(module.packages());
        hidden.removeAll(open);
        assertTrue(hidden.contains("dev.kiln.runtime"),
                "the runtime is expected to be internal; hidden packages: " + hidden);

        List<Class<?>> classes = exportedClasses(open);
        assertTrue(classes.contains(CompiledModel.class) && classes.contains(Engine.class),
                "the walk must see the user API; it saw " + classes.size() + " classes");

        List<String> leaks = new ArrayList<>();
        for (Class<?> c : classes) {
            check(c.getName() + " extends", c.getGenericSuperclass(), hidden, leaks);
            for (Type t : c.getGenericInterfaces()) {
                check(c.getName() + " implements", t, hidden, leaks);
            }
            if (c.isRecord()) {
                for (RecordComponent rc : c.getRecordComponents()) {
                    check(c.getName() + " component " + rc.getName(), rc.getGenericType(), hidden, leaks);
                }
            }
            for (Field f : c.getDeclaredFields()) {
                if (visible(f)) {
                    check(c.getName() + "." + f.getName(), f.getGenericType(), hidden, leaks);
                }
            }
            List<Executable> members = new ArrayList<>(List.of(c.getDeclaredMethods()));
            members.addAll(List.of(c.getDeclaredConstructors()));
            for (Executable m : members) {
                if (!visible(m) || m.isSynthetic()) {
                    continue;
                }
                String where = c.getName() + "." + (m instanceof Constructor<?> ? "<init>" : m.getName());
                if (m instanceof Method method) {
                    check(where + " returns", method.getGenericReturnType(), hidden, leaks);
                }
                for (Type p : m.getGenericParameterTypes()) {
                    check(where + " parameter", p, hidden, leaks);
                }
                for (Type x : m.getGenericExceptionTypes()) {
                    check(where + " throws", x, hidden, leaks);
                }
                for (TypeVariable<?> v : m.getTypeParameters()) {
                    for (Type b : v.getBounds()) {
                        check(where + " type bound", b, hidden, leaks);
                    }
                }
            }
        }
        assertEquals(List.of(), leaks, "exported API naming types of packages exported to no user "
                + hidden);
    }

    /** The check itself: a made-up leak is caught, so a green run means something. */
    @Test
    void theWalkFindsATypeOfAHiddenPackage() throws Exception {
        List<String> leaks = new ArrayList<>();
        Type listOfHidden = Holder.class.getDeclaredMethod("leak").getGenericReturnType();
        check("Holder.leak returns", listOfHidden, Set.of("dev.kiln.runtime"), leaks);
        assertFalse(leaks.isEmpty(), "a List<dev.kiln.runtime.*> must be reported");
    }

    private interface Holder {
        List<dev.kiln.runtime.HostThreadPool> leak();
    }

    private static boolean visible(Member m) {
        int mod = m.getModifiers();
        return Modifier.isPublic(mod) || Modifier.isProtected(mod);
    }

    private static void check(String where, Type type, Set<String> hidden, List<String> leaks) {
        check(where, type, hidden, leaks, new HashSet<>());
    }

    private static void check(String where, Type type, Set<String> hidden, List<String> leaks, Set<Type> seen) {
        if (type == null || !seen.add(type)) {
            return;
        }
        switch (type) {
            case Class<?> c -> {
                while (c.isArray()) {
                    c = c.getComponentType();
                }
                if (!c.isPrimitive() && hidden.contains(c.getPackageName())) {
                    leaks.add(where + " " + c.getName());
                }
            }
            case ParameterizedType p -> {
                check(where, p.getRawType(), hidden, leaks, seen);
                for (Type a : p.getActualTypeArguments()) {
                    check(where, a, hidden, leaks, seen);
                }
            }
            case GenericArrayType g -> check(where, g.getGenericComponentType(), hidden, leaks, seen);
            case WildcardType w -> {
                for (Type b : w.getUpperBounds()) {
                    check(where, b, hidden, leaks, seen);
                }
                for (Type b : w.getLowerBounds()) {
                    check(where, b, hidden, leaks, seen);
                }
            }
            case TypeVariable<?> v -> {
                for (Type b : v.getBounds()) {
                    check(where, b, hidden, leaks, seen);
                }
            }
            default -> throw new AssertionError("unexpected kind of type " + type + " at " + where);
        }
    }

    private static ModuleDescriptor descriptor() throws IOException, URISyntaxException {
        Path file = classesRoot().resolve("module-info.class");
        assertTrue(Files.isRegularFile(file), "engine-api's module-info.class is not at " + file);
        try (InputStream in = Files.newInputStream(file)) {
            return ModuleDescriptor.read(in);
        }
    }

    /** The folder or jar root engine-api's classes come from (tests run on the class path). */
    private static Path classesRoot() throws URISyntaxException {
        return Path.of(CompiledModel.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    }

    /** Every public class (nested ones reachable through public enclosing classes too) of these packages. */
    private static List<Class<?>> exportedClasses(Set<String> packages) throws IOException, URISyntaxException,
            ClassNotFoundException {
        Path root = classesRoot();
        List<Class<?>> out = new ArrayList<>();
        for (String pkg : new TreeSet<>(packages)) {
            Path dir = root.resolve(pkg.replace('.', '/'));
            List<Path> files;
            try (Stream<Path> s = Files.list(dir)) {
                files = s.filter(f -> f.toString().endsWith(".class")).sorted().toList();
            }
            for (Path f : files) {
                String simple = f.getFileName().toString().replace(".class", "");
                if (simple.equals("package-info")) {
                    continue;
                }
                Class<?> c = Class.forName(pkg + "." + simple, false, ExportedApiTest.class.getClassLoader());
                if (apiVisible(c)) {
                    out.add(c);
                }
            }
        }
        return out;
    }

    /** Public, and, when nested, inside classes that are public (or protected members of extendable ones). */
    private static boolean apiVisible(Class<?> c) {
        if (c.isAnonymousClass() || c.isLocalClass() || c.isSynthetic()) {
            return false;
        }
        for (Class<?> k = c; k != null; k = k.getDeclaringClass()) {
            int mod = k.getModifiers();
            if (!Modifier.isPublic(mod) && !(k.getDeclaringClass() != null && Modifier.isProtected(mod))) {
                return false;
            }
        }
        return true;
    }
}
