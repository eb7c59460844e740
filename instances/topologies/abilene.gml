graph [
  comment "Abilene (Internet2) backbone, 11 PoPs and 14 links as commonly used in networking studies; city coordinates (degrees) written for idnplan, in the style of Internet Topology Zoo GML files."
  label "Abilene"
  directed 0
  node [
    id 0
    label "New York"
    Latitude 40.71
    Longitude -74.01
  ]
  node [
    id 1
    label "Chicago"
    Latitude 41.88
    Longitude -87.63
  ]
  node [
    id 2
    label "Washington DC"
    Latitude 38.91
    Longitude -77.04
  ]
  node [
    id 3
    label "Seattle"
    Latitude 47.61
    Longitude -122.33
  ]
  node [
    id 4
    label "Sunnyvale"
    Latitude 37.37
    Longitude -122.04
  ]
  node [
    id 5
    label "Los Angeles"
    Latitude 34.05
    Longitude -118.24
  ]
  node [
    id 6
    label "Denver"
    Latitude 39.74
    Longitude -104.99
  ]
  node [
    id 7
    label "Kansas City"
    Latitude 39.1
    Longitude -94.58
  ]
  node [
    id 8
    label "Houston"
    Latitude 29.76
    Longitude -95.37
  ]
  node [
    id 9
    label "Atlanta"
    Latitude 33.75
    Longitude -84.39
  ]
  node [
    id 10
    label "Indianapolis"
    Latitude 39.77
    Longitude -86.16
  ]
  edge [
    source 0
    target 1
  ]
  edge [
    source 0
    target 2
  ]
  edge [
    source 1
    target 10
  ]
  edge [
    source 2
    target 9
  ]
  edge [
    source 3
    target 4
  ]
  edge [
    source 3
    target 6
  ]
  edge [
    source 4
    target 5
  ]
  edge [
    source 4
    target 6
  ]
  edge [
    source 5
    target 8
  ]
  edge [
    source 6
    target 7
  ]
  edge [
    source 7
    target 8
  ]
  edge [
    source 7
    target 10
  ]
  edge [
    source 8
    target 9
  ]
  edge [
    source 9
    target 10
  ]
]
