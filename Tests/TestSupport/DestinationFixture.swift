import Engine
import Foundation

/// A destination plugin as the conformance suites (DestinationConformance, DestinationLockConformance)
/// need it: how to make a fresh, empty one from its factory, a full one, and (where it has locks) how to
/// leave a lock behind as a holder that died would. Each destination's test target has its fixture (as
/// LocalTests' `DestinationFixture.local`) and runs the suites with it.
package struct DestinationFixture: Sendable, CustomStringConvertible {
    /// A made destination and how to remove it.
    package struct Made {
        package var destination: any Destination
        package var cleanUp: @Sendable () -> Void

        package init(destination: any Destination, cleanUp: @escaping @Sendable () -> Void) {
            self.destination = destination
            self.cleanUp = cleanUp
        }
    }

    package var description: String
    /// A fresh, empty destination, made by the plugin's own factory from its settings.
    package var make: @Sendable () async throws -> Made
    /// A destination with room for less than 1 MiB; nil for stores that have no size (object storage).
    package var makeFull: (@Sendable () async throws -> Made)?
    /// Takes `job`'s lock in `destination` the way another process would, and dies holding it (a killed
    /// process, or a pod whose lease then lapses); returns once the lock may be taken over.
    package var dieHoldingLock: @Sendable (_ destination: any Destination, _ job: String) async throws -> Void

    package init(
        description: String, make: @escaping @Sendable () async throws -> Made,
        makeFull: (@Sendable () async throws -> Made)?,
        dieHoldingLock: @escaping @Sendable (_ destination: any Destination, _ job: String) async throws -> Void
    ) {
        self.description = description
        self.make = make
        self.makeFull = makeFull
        self.dieHoldingLock = dieHoldingLock
    }

    /// Makes the destination from its factory, as a job's config would.
    package static func make(_ factory: any DestinationFactory, _ values: [String: String]) throws -> any Destination {
        var settings: [String: String] = [:]
        for key in factory.keys { settings[key.name] = key.defaultValue }
        return try factory.make(PluginSettings(plugin: factory.name, values: settings.merging(values) { $1 }))
    }
}
