extension DatabaseGlobals {
    /// Every role name mentioned: the owner, the roles, grantees and grantors, members, role settings.
    var mentionedRoles: Set<String> {
        var names: Set<String> = [owner]
        names.formUnion(roles.map(\.name))
        names.formUnion((memberships ?? []).flatMap { [$0.role, $0.member] + ($0.grantor.map { [$0] } ?? []) })
        names.formUnion(((acl ?? []) + (grants ?? [])).flatMap { [$0.grantee] + ($0.grantor.map { [$0] } ?? []) })
        names.formUnion((roleSettings ?? []).map(\.role))
        names.remove("PUBLIC")
        return names
    }

    /// The globals as the target is to have them with `map`'s source roles replaced by existing roles: a
    /// mapped role is not created, and its ownership, grants, settings and its own memberships in other
    /// roles go to its target. Other roles' memberships in it are not carried over.
    func mapping(_ map: [String: String]) -> DatabaseGlobals {
        guard !map.isEmpty else { return self }
        func name(_ role: String) -> String { role == "PUBLIC" ? role : map[role] ?? role }
        var copy = self
        copy.owner = name(owner)
        copy.roles = roles.filter { map[$0.name] == nil }
        copy.memberships = memberships?.compactMap { membership in
            // Membership *in* a mapped role would hand its members the existing target role and all it
            // holds on that server, more than the source role gave them: left to a person.
            guard map[membership.role] == nil else { return nil }
            var mapped = membership
            mapped.role = name(membership.role)
            mapped.member = name(membership.member)
            mapped.grantor = membership.grantor.map(name)
            // Two roles mapped onto one: a role cannot be a member of itself.
            return mapped.role == mapped.member ? nil : mapped
        }
        func entries(_ list: [AclEntry]?) -> [AclEntry]? {
            list?.map { entry in
                var mapped = entry
                mapped.grantee = name(entry.grantee)
                mapped.grantor = entry.grantor.map(name)
                return mapped
            }
        }
        copy.acl = entries(acl)
        copy.grants = entries(grants)
        copy.roleSettings = roleSettings?.map { RoleSetting(role: name($0.role), settings: $0.settings) }
        return copy
    }
}
