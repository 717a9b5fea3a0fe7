package data

import "strconv"

// wardNames are plausible bilingual (English, French) ward names of a
// Canadian municipality. Ward n takes entry n-1; past the end wards are
// numbered, as real councils do when they run out of neighbourhood names.
var wardNames = [...][2]string{
	{"Mill Ward", "Quartier du Moulin"},
	{"Riverside", "Bord-de-l'Eau"},
	{"Old Port", "Vieux-Port"},
	{"Downtown", "Centre-Ville"},
	{"Lakeshore", "Bord-du-Lac"},
	{"Church Hill", "Côte-de-l'Église"},
	{"Market", "Le Marché"},
	{"St. Joseph", "Saint-Joseph"},
	{"Northwood", "Bois-du-Nord"},
	{"Pine Ridge", "Crête-des-Pins"},
	{"Maple Grove", "L'Érablière"},
	{"Stone Bridge", "Pont-de-Pierre"},
	{"The Falls", "Les Chutes"},
	{"Highlands", "Hautes-Terres"},
	{"Meadowvale", "Val-des-Prés"},
	{"Oak Park", "Parc-des-Chênes"},
	{"Station", "La Gare"},
	{"Harbour", "Le Havre"},
	{"Fort", "Le Fort"},
	{"Chapel", "La Chapelle"},
	{"Orchard", "Le Verger"},
	{"Birch Hill", "Colline-des-Bouleaux"},
	{"Beaver Creek", "Ruisseau-des-Castors"},
	{"Cedar Point", "Pointe-aux-Cèdres"},
	{"Heron Bay", "Baie-des-Hérons"},
	{"The Islands", "Les Îles"},
	{"Upper Town", "Haute-Ville"},
	{"Lower Town", "Basse-Ville"},
	{"Fairview", "Belle-Vue"},
	{"Mountainview", "Vue-sur-le-Mont"},
	{"Sugarbush", "La Sucrerie"},
	{"Canal", "Le Canal"},
	{"The Locks", "Les Écluses"},
	{"The Rapids", "Les Rapides"},
	{"Glen", "Le Vallon"},
	{"Brookside", "Bord-du-Ruisseau"},
	{"Willow Bend", "Coude-des-Saules"},
	{"Fox Hollow", "Creux-du-Renard"},
	{"Crossroads", "La Croisée"},
	{"Foundry", "La Fonderie"},
	{"Tannery", "La Tannerie"},
	{"Brickyard", "La Briqueterie"},
	{"Windmill", "Moulin-à-Vent"},
	{"Ferry Landing", "Quai-du-Traversier"},
	{"Lighthouse", "Le Phare"},
	{"Sandy Beach", "Plage-de-Sable"},
	{"Elm Gardens", "Jardins-des-Ormes"},
	{"Poplar Flats", "Plaine-des-Peupliers"},
	{"Ash Grove", "Bosquet-des-Frênes"},
	{"Golden Valley", "Val-d'Or"},
	{"Clearwater", "Eau-Claire"},
	{"Long Point", "Longue-Pointe"},
	{"Grand Meadow", "Grand-Pré"},
	{"Bellmont", "Beaumont"},
	{"Greenfield", "Champvert"},
	{"Red Rock", "Roche-Rouge"},
	{"Black Lake", "Lac-Noir"},
	{"Silver Springs", "Sources-d'Argent"},
	{"Eagle Ridge", "Crête-de-l'Aigle"},
	{"Seigneury", "La Seigneurie"},
}

// wardName returns the English and French names of ward n (1-based).
func wardName(n int) (en, fr string) {
	if n >= 1 && n <= len(wardNames) {
		return wardNames[n-1][0], wardNames[n-1][1]
	}
	s := strconv.Itoa(n)
	return "Ward " + s, "Quartier " + s
}
